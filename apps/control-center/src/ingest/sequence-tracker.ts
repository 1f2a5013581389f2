/**
 * Per (node, boot) delivery state: the contiguous committed high-water mark and the committed sequence numbers
 * above it (out of order, or after a hole). Pure and serialisable, so the same logic runs on state loaded from the
 * database under a row lock (several centre instances sharing a subscription each see only part of a stream).
 */
export interface SequenceState {
  /** Every seq <= committedUpTo is committed. Seqs start at 1, so 0 means nothing yet. */
  committedUpTo: number;
  /** Committed seqs above committedUpTo, ascending, without duplicates. */
  pending: number[];
  /** When the oldest hole was first seen (ms since epoch), null when there is none. */
  holeSince: number | null;
}

export const emptySequenceState = (): SequenceState => ({ committedUpTo: 0, pending: [], holeSince: null });

/** Seqs above this many pending are dropped from tracking (they stay stored); the edge's resend covers the rest. */
export const MAX_PENDING = 50_000;

/** Merges freshly committed seqs and advances the high-water mark as far as it is contiguous. */
export function advance(state: SequenceState, committed: readonly number[], now: number): SequenceState {
  const merged = new Set(state.pending);
  for (const s of committed) if (s > state.committedUpTo) merged.add(s);
  const sorted = [...merged].sort((a, b) => a - b);
  let hwm = state.committedUpTo;
  let i = 0;
  while (i < sorted.length && sorted[i] === hwm + 1) {
    hwm++;
    i++;
  }
  const pending = sorted.slice(i, i + MAX_PENDING);
  const holeSince = pending.length === 0 ? null : hwm === state.committedUpTo ? (state.holeSince ?? now) : now;
  return { committedUpTo: hwm, pending, holeSince };
}

/** Inclusive ranges of seqs missing below the highest committed one, at most `limit` ranges. */
export function missingRanges(state: SequenceState, limit = 100): { from: number; to: number }[] {
  const ranges: { from: number; to: number }[] = [];
  let expected = state.committedUpTo + 1;
  for (const s of state.pending) {
    if (s > expected) ranges.push({ from: expected, to: s - 1 });
    if (ranges.length >= limit) break;
    expected = s + 1;
  }
  return ranges;
}

/** True when a hole has been open longer than the grace period (ordering jitter is not a loss). */
export function needsReplay(state: SequenceState, now: number, graceMs: number): boolean {
  return state.holeSince !== null && now - state.holeSince >= graceMs;
}
