import type { Role } from './role.schema';
import { UuidSchema } from '../common.schema';

/** `GET /evidence/:evidenceId`: the evidence image's id (the `evidence.evidenceId` of its detection event). */
export const EvidenceIdParamSchema = UuidSchema;

/** Who may view evidence images (masked JPEGs): never traffic analysts, who see counts only (BRIEF §6). */
export const EVIDENCE_VIEW_ROLES: readonly Role[] = ['admin', 'operator', 'auditor'];
