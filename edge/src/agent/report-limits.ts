import { CameraStatusSchema, CONFIG_ACK_LIMITS } from '@vigil/contracts';

/** `reason` of a camera status: the contract's limit, read from the schema so the two cannot disagree. */
export const CAMERA_STATUS_REASON_MAX = CameraStatusSchema.shape.reason.unwrap().maxLength ?? 500;

const ELLIPSIS = '…';

/**
 * Text clipped to `max` UTF-16 units (what zod's `.max()` counts), marked with an ellipsis, without splitting a
 * surrogate pair. Every reason the edge reports (config acks, camera statuses) goes through here: a message over the
 * contract's limit is refused by the outbox, and a refused report must never stop the next one.
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return text.slice(0, Math.max(0, max));
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return text.slice(0, end) + ELLIPSIS;
}

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
