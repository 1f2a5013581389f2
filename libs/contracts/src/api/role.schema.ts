import { z } from 'zod';

/**
 * The centre's roles (BRIEF §6). Every REST route and WebSocket event names the roles it admits; there is no
 * implicit default. Traffic analysts see counts, never images or alert details.
 */
export const ROLES = ['admin', 'operator', 'traffic_analyst', 'auditor'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;
