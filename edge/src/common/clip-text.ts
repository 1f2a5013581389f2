import { toStorableText } from '@vigil/contracts';

const ELLIPSIS = '…';

/**
 * Text made storable (NUL and lone surrogates from ffmpeg's output or an exception become U+FFFD) and clipped to
 * `max` UTF-16 units (what zod's `.max()` counts), marked with an ellipsis, without splitting a surrogate pair. Every
 * reason the edge reports (config acks, camera statuses) goes through here: the outbox refuses a message the contract
 * refuses, and a refused report must never stop the next one.
 */
export function clipText(text: string, max: number): string {
  text = toStorableText(text);
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return text.slice(0, Math.max(0, max));
  let end = max - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return text.slice(0, end) + ELLIPSIS;
}
