import fc from 'fast-check';
import { commitBisecting, dataErrorOf, type DataError } from './batch-splitter';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('dataErrorOf', () => {
  it('takes SQLSTATE classes 22, 23 and 54 as data errors, by code and never by text', () => {
    expect(dataErrorOf(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toEqual({
      code: '22021',
      message: 'invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect(dataErrorOf(pgError('22P05'))?.code).toBe('22P05');
    expect(dataErrorOf(pgError('23514'))?.code).toBe('23514');
    expect(dataErrorOf(Object.assign(pgError('54000'), { detail: 'row too big' }))?.detail).toBe('row too big');
  });

  it('leaves connection, server and unknown errors to the retry loop', () => {
    for (const code of ['08006', '40P01', '40001', '53100', '57P01', 'XX000', '42P01', 'ECONNREFUSED', 'EPIPE']) {
      expect(dataErrorOf(pgError(code))).toBeNull();
    }
    expect(dataErrorOf(new Error('invalid byte sequence for encoding "UTF8": 0x00'))).toBeNull();
    expect(dataErrorOf(null)).toBeNull();
    expect(dataErrorOf('22021')).toBeNull();
  });
});

/** A "database" that refuses any commit holding a poisoned unit, and records what it committed. */
function fakeDb(poisoned: Set<number>) {
  const committed: number[] = [];
  let calls = 0;
  const commit = (units: number[]) => {
    calls++;
    if (units.some((u) => poisoned.has(u))) return Promise.reject(pgError('22021'));
    committed.push(...units);
    return Promise.resolve();
  };
  return { committed, commit, calls: () => calls };
}

describe('commitBisecting', () => {
  it('commits a clean batch in one go', async () => {
    const db = fakeDb(new Set());
    const refused: number[] = [];
    const outcome = await commitBisecting([1, 2, 3], db.commit, (u) => Promise.resolve(void refused.push(u)));
    expect(outcome).toEqual({ splits: 0, refused: 0 });
    expect(db.committed).toEqual([1, 2, 3]);
    expect(db.calls()).toBe(1);
  });

  it('isolates exactly the refused units, commits all the others in order, in few commits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 299 }), { maxLength: 6 }),
        async (n, bad) => {
          const units = Array.from({ length: n }, (_, i) => i);
          const poisoned = new Set(bad.filter((b) => b < n));
          const db = fakeDb(poisoned);
          const refused: [number, DataError][] = [];
          const outcome = await commitBisecting(units, db.commit, (u, e) => Promise.resolve(void refused.push([u, e])));
          expect(refused.map(([u]) => u)).toEqual([...poisoned].sort((a, b) => a - b));
          for (const [, e] of refused) expect(e.code).toBe('22021');
          expect(db.committed).toEqual(units.filter((u) => !poisoned.has(u)));
          expect(outcome.refused).toBe(poisoned.size);
          // Each refused unit costs at most two commits per halving.
          expect(db.calls()).toBeLessThanOrEqual(1 + 2 * poisoned.size * Math.ceil(Math.log2(n + 1)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops and throws on an error that is not a data error, leaving the rest to the retry loop', async () => {
    let calls = 0;
    const commit = (units: number[]) => {
      calls++;
      return Promise.reject(units.length === 4 ? pgError('22021') : pgError('08006', 'connection lost'));
    };
    await expect(commitBisecting([1, 2, 3, 4], commit, () => Promise.resolve())).rejects.toMatchObject({
      code: '08006',
    });
    expect(calls).toBe(2);
  });
});
