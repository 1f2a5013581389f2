import fc from 'fast-check';
import { advance, emptySequenceState, missingRanges, needsReplay } from './sequence-tracker';

describe('sequence tracker', () => {
  it('advances over a contiguous run', () => {
    const s = advance(emptySequenceState(), [1, 2, 3], 0);
    expect(s).toEqual({ committedUpTo: 3, pending: [], holeSince: null });
  });

  it('holds seqs after a hole and reports the missing range', () => {
    const s = advance(emptySequenceState(), [1, 2, 5, 6, 9], 1000);
    expect(s.committedUpTo).toBe(2);
    expect(s.pending).toEqual([5, 6, 9]);
    expect(missingRanges(s)).toEqual([
      { from: 3, to: 4 },
      { from: 7, to: 8 },
    ]);
    expect(s.holeSince).toBe(1000);
  });

  it('keeps the hole age while the hole stays open, resets it when the mark moves', () => {
    let s = advance(emptySequenceState(), [1, 3], 1000);
    s = advance(s, [4], 2000);
    expect(s.holeSince).toBe(1000);
    expect(needsReplay(s, 3999, 3000)).toBe(false);
    expect(needsReplay(s, 4000, 3000)).toBe(true);
    s = advance(s, [2], 5000);
    expect(s).toEqual({ committedUpTo: 4, pending: [], holeSince: null });
  });

  it('ignores replays of already committed seqs', () => {
    const s = advance(advance(emptySequenceState(), [1, 2, 3], 0), [1, 2, 3], 10);
    expect(s).toEqual({ committedUpTo: 3, pending: [], holeSince: null });
  });

  it('reaches the same state whatever the order and split of deliveries (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 150 }),
        fc.integer({ min: 1, max: 10 }),
        (seqs, chunks) => {
          const all = advance(emptySequenceState(), seqs, 0);
          let split = emptySequenceState();
          const size = Math.ceil(seqs.length / chunks) || 1;
          for (let i = 0; i < seqs.length; i += size) split = advance(split, seqs.slice(i, i + size), 0);
          expect(split.committedUpTo).toBe(all.committedUpTo);
          expect(split.pending).toEqual(all.pending);
          // The mark is the largest n with 1..n all present.
          const set = new Set(seqs);
          let n = 0;
          while (set.has(n + 1)) n++;
          expect(all.committedUpTo).toBe(n);
          // Missing ranges plus present seqs cover 1..max exactly.
          const covered = new Set(seqs.filter((x) => x <= Math.max(0, ...seqs)));
          for (const r of missingRanges(all, 1000)) for (let x = r.from; x <= r.to; x++) covered.add(x);
          const max = Math.max(0, ...seqs);
          expect(covered.size).toBe(max);
        },
      ),
    );
  });
});
