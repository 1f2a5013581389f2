import fc from 'fast-check';
import {
  advance,
  emptySequenceState,
  missingRanges,
  needsReplay,
  newlyLost,
  notClosed,
  type SeqRange,
} from './sequence-tracker';

describe('sequence tracker', () => {
  it('advances over a contiguous run', () => {
    const s = advance(emptySequenceState(), [1, 2, 3], 0);
    expect(s).toEqual({ committedUpTo: 3, pending: [], lost: [], holeSince: null });
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
    expect(s).toEqual({ committedUpTo: 4, pending: [], lost: [], holeSince: null });
  });

  it('ignores replays of already committed seqs', () => {
    const s = advance(advance(emptySequenceState(), [1, 2, 3], 0), [1, 2, 3], 10);
    expect(s).toEqual({ committedUpTo: 3, pending: [], lost: [], holeSince: null });
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

  describe('seqs the edge announced as lost', () => {
    it('lets the mark pass a lost seq and closes the stream without a replay', () => {
      let s = advance(emptySequenceState(), [1, 2, 4, 5], 1000);
      expect(s).toMatchObject({ committedUpTo: 2, pending: [4, 5], holeSince: 1000 });
      s = advance(s, [], 2000, [{ from: 3, to: 3 }]);
      expect(s).toEqual({ committedUpTo: 5, pending: [], lost: [], holeSince: null });
      expect(missingRanges(s)).toEqual([]);
    });

    it('remembers a lost range above a hole, jumps over it once the hole fills, and never asks for it', () => {
      let s = advance(emptySequenceState(), [1, 2, 9], 1000, [{ from: 5, to: 7 }]);
      expect(s).toEqual({ committedUpTo: 2, pending: [9], lost: [{ from: 5, to: 7 }], holeSince: 1000 });
      expect(missingRanges(s)).toEqual([
        { from: 3, to: 4 },
        { from: 8, to: 8 },
      ]);
      s = advance(s, [3, 4], 2000);
      expect(s).toEqual({ committedUpTo: 7, pending: [9], lost: [], holeSince: 2000 });
      s = advance(s, [8], 3000);
      expect(s).toEqual({ committedUpTo: 9, pending: [], lost: [], holeSince: null });
    });

    it('treats a lost range above everything committed as a hole below it', () => {
      const s = advance(emptySequenceState(), [1], 1000, [{ from: 4, to: 6 }]);
      expect(s.committedUpTo).toBe(1);
      expect(s.holeSince).toBe(1000);
      expect(missingRanges(s)).toEqual([{ from: 2, to: 3 }]);
    });

    it('merges overlapping and adjacent announcements and drops what the mark already covers', () => {
      let s = advance(emptySequenceState(), [1, 2, 3], 0);
      s = advance(s, [], 0, [
        { from: 2, to: 2 },
        { from: 10, to: 12 },
        { from: 13, to: 15 },
        { from: 11, to: 20 },
      ]);
      expect(s.lost).toEqual([{ from: 10, to: 20 }]);
      expect(s.committedUpTo).toBe(3);
    });

    it('newlyLost: only what is not closed yet (committed, below the mark, or announced before)', () => {
      let s = advance(emptySequenceState(), [1, 2, 3, 6, 8], 0, [{ from: 10, to: 11 }]);
      expect(newlyLost(s, [{ from: 2, to: 12 }])).toEqual([
        { from: 4, to: 5 },
        { from: 7, to: 7 },
        { from: 9, to: 9 },
        { from: 12, to: 12 },
      ]);
      s = advance(s, [], 0, [{ from: 2, to: 12 }]);
      expect(newlyLost(s, [{ from: 2, to: 12 }])).toEqual([]);
      expect(s).toMatchObject({ committedUpTo: 12, pending: [], lost: [] });
    });

    it('closes exactly committed ∪ lost, in any order and split (property)', () => {
      const range = fc
        .tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 5 }))
        .map(([from, len]): SeqRange => ({ from, to: from + len }));
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 150 }),
          fc.array(range, { maxLength: 20 }),
          fc.integer({ min: 1, max: 6 }),
          (seqs, lost, chunks) => {
            const all = advance(emptySequenceState(), seqs, 0, lost);
            let split = emptySequenceState();
            const size = Math.ceil(Math.max(seqs.length, lost.length) / chunks) || 1;
            for (let i = 0; i < Math.max(seqs.length, lost.length); i += size) {
              split = advance(split, seqs.slice(i, i + size), 0, lost.slice(i, i + size));
            }
            expect(split).toEqual(all);
            const closed = new Set(seqs);
            for (const r of lost) for (let x = r.from; x <= r.to; x++) closed.add(x);
            let n = 0;
            while (closed.has(n + 1)) n++;
            expect(all.committedUpTo).toBe(n);
            // Missing ranges are exactly the unclosed seqs below the highest closed one.
            const max = Math.max(0, ...closed);
            const missing = new Set<number>();
            for (const r of missingRanges(all, 1000)) for (let x = r.from; x <= r.to; x++) missing.add(x);
            for (let x = 1; x <= max; x++) expect(missing.has(x)).toBe(!closed.has(x));
            expect(all.holeSince === null).toBe(missing.size === 0);
          },
        ),
      );
    });
  });
});

describe('notClosed', () => {
  it('keeps only seqs neither below the mark, nor committed, nor announced lost, each once, ascending', () => {
    const state = { committedUpTo: 5, pending: [8, 9], lost: [{ from: 12, to: 14 }], holeSince: 1 };
    expect(notClosed(state, [3, 5, 6, 8, 9, 10, 13, 15, 6, 7])).toEqual([6, 7, 10, 15]);
    expect(notClosed(emptySequenceState(), [])).toEqual([]);
  });
});
