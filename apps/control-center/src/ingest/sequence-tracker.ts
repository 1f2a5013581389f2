import type { SeqRange } from '@vigil/contracts';

/** An inclusive range of sequence numbers (the contracts' type, the one on the wire). */
export type { SeqRange };

/**
 * Per (node, boot) delivery state: the contiguous closed high-water mark, the committed sequence numbers above it
 * (out of order, or after a hole), and the ranges above it the edge announced as lost (evicted from its outbox
 * before they were committed here). A seq is closed when it is committed or announced lost; the mark is the largest
 * n with 1..n all closed. Pure and serialisable, so the same logic runs on state loaded from the database under a
 * row lock (several centre instances sharing a subscription each see only part of a stream).
 */
export interface SequenceState {
  /** Every seq <= committedUpTo is committed or announced lost. Seqs start at 1, so 0 means nothing yet. */
  committedUpTo: number;
  /** Committed seqs above committedUpTo, ascending, without duplicates. */
  pending: number[];
  /** Announced-lost ranges above committedUpTo, ascending, disjoint and not adjacent to each other. */
  lost: SeqRange[];
  /** When the oldest hole was first seen (ms since epoch), null when there is none. */
  holeSince: number | null;
}

export const emptySequenceState = (): SequenceState => ({ committedUpTo: 0, pending: [], lost: [], holeSince: null });

/** Seqs above this many pending are dropped from tracking (they stay stored); the edge's resend covers the rest. */
export const MAX_PENDING = 50_000;
/** Lost ranges above this many are dropped from tracking; the edge announces them again until acknowledged. */
export const MAX_LOST_RANGES = 10_000;

/** Sorted, merged (overlapping or adjacent ranges joined), only what lies above `above`. */
export function normaliseRanges(ranges: readonly SeqRange[], above = 0): SeqRange[] {
  const sorted = ranges
    .map((r) => ({ from: Math.max(r.from, above + 1), to: r.to }))
    .filter((r) => r.to >= r.from)
    .sort((a, b) => a.from - b.from);
  const out: SeqRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

export function rangeSize(ranges: readonly SeqRange[]): number {
  return ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
}

/**
 * Merges freshly committed seqs and announced-lost ranges, and advances the high-water mark as far as closed seqs
 * are contiguous: a lost range lets it jump to the range's end.
 */
export function advance(
  state: SequenceState,
  committed: readonly number[],
  now: number,
  lost: readonly SeqRange[] = [],
): SequenceState {
  const mark = state.committedUpTo;
  const merged = new Set(state.pending);
  for (const s of committed) if (s > mark) merged.add(s);
  const sorted = [...merged].sort((a, b) => a - b);
  const closed = normaliseRanges([...state.lost, ...lost], mark);
  let hwm = mark;
  let i = 0;
  let j = 0;
  for (;;) {
    if (i < sorted.length && sorted[i] <= hwm) i++;
    else if (j < closed.length && closed[j].to <= hwm) j++;
    else if (i < sorted.length && sorted[i] === hwm + 1) hwm = sorted[i++];
    else if (j < closed.length && closed[j].from <= hwm + 1) hwm = closed[j++].to;
    else break;
  }
  const pending = sorted.slice(i, i + MAX_PENDING);
  const lostLeft = normaliseRanges(closed.slice(j, j + MAX_LOST_RANGES), hwm);
  const open = pending.length > 0 || lostLeft.length > 0;
  const holeSince = !open ? null : hwm === mark ? (state.holeSince ?? now) : now;
  return { committedUpTo: hwm, pending, lost: lostLeft, holeSince };
}

/**
 * The parts of announced-lost `ranges` that are not closed yet in `state` (neither at or below the mark, nor
 * committed, nor announced before): what an announcement newly loses, for the audit and the loss counter. An
 * announcement repeated by the edge yields nothing the second time.
 */
export function newlyLost(state: SequenceState, ranges: readonly SeqRange[]): SeqRange[] {
  let open = normaliseRanges(ranges, state.committedUpTo);
  for (const known of state.lost) open = subtract(open, known.from, known.to);
  if (open.length === 0) return [];
  // Committed seqs inside the announced ranges were delivered after all.
  const lo = open[0].from;
  const hi = open[open.length - 1].to;
  for (let k = lowerBound(state.pending, lo); k < state.pending.length && state.pending[k] <= hi; k++) {
    open = subtract(open, state.pending[k], state.pending[k]);
  }
  return open;
}

/**
 * The distinct seqs of `seqs` not closed yet in `state` (neither at or below the mark, nor committed, nor announced
 * lost), ascending: what a batch of refused messages newly closes, for the rejection count.
 */
export function notClosed(state: SequenceState, seqs: readonly number[]): number[] {
  const open = [...new Set(seqs)].filter((s) => s > state.committedUpTo).sort((a, b) => a - b);
  return open.filter((s) => {
    const k = lowerBound(state.pending, s);
    if (k < state.pending.length && state.pending[k] === s) return false;
    return !state.lost.some((r) => r.from <= s && s <= r.to);
  });
}

function subtract(ranges: SeqRange[], from: number, to: number): SeqRange[] {
  const out: SeqRange[] = [];
  for (const r of ranges) {
    if (r.to < from || r.from > to) {
      out.push(r);
      continue;
    }
    if (r.from < from) out.push({ from: r.from, to: from - 1 });
    if (r.to > to) out.push({ from: to + 1, to: r.to });
  }
  return out;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inclusive ranges of seqs missing below the highest known one (committed or announced lost), at most `limit`
 * ranges. Announced-lost seqs are never missing: the edge cannot send them again.
 */
export function missingRanges(state: SequenceState, limit = 100): SeqRange[] {
  const ranges: SeqRange[] = [];
  let expected = state.committedUpTo + 1;
  let i = 0;
  let j = 0;
  while ((i < state.pending.length || j < state.lost.length) && ranges.length < limit) {
    const takeSeq = j >= state.lost.length || (i < state.pending.length && state.pending[i] < state.lost[j].from);
    const block = takeSeq ? { from: state.pending[i], to: state.pending[i++] } : state.lost[j++];
    if (block.from > expected) ranges.push({ from: expected, to: block.from - 1 });
    expected = Math.max(expected, block.to + 1);
  }
  return ranges;
}

/** True when a hole has been open longer than the grace period (ordering jitter is not a loss). */
export function needsReplay(state: SequenceState, now: number, graceMs: number): boolean {
  return state.holeSince !== null && now - state.holeSince >= graceMs;
}
