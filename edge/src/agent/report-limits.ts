import { CameraStatusSchema, CONFIG_ACK_LIMITS } from '@vigil/contracts';
import { clipText } from '../common/clip-text';

/** `reason` of a camera status: the contract's limit, read from the schema so the two cannot disagree. */
export const CAMERA_STATUS_REASON_MAX = CameraStatusSchema.shape.reason.unwrap().maxLength ?? 500;

export interface AckError {
  path: string;
  message: string;
}

/** A config ack's error list within the contract's limits (count, path and message lengths). */
export function clipAckErrors(errors: readonly AckError[]): AckError[] {
  const { errors: maxErrors, path, message } = CONFIG_ACK_LIMITS;
  const kept = errors
    .slice(0, maxErrors)
    .map((e) => ({ path: clipText(e.path, path), message: clipText(e.message, message) }));
  if (errors.length > maxErrors) {
    kept[maxErrors - 1] = { path: '', message: `and ${errors.length - maxErrors + 1} more errors` };
  }
  return kept;
}

export function clipStatusReason(reason: string | null): string | null {
  return reason === null ? null : clipText(reason, CAMERA_STATUS_REASON_MAX);
}
