import fc from 'fast-check';

import { solveAssignment } from './linear-assignment';

/** Cost of a gated assignment: pairs at their cost, every unmatched row and column at maxCost / 2. */
function gatedCost(cost: number[][], maxCost: number, matches: [number, number][]): number {
  const rows = cost.length;
  const cols = rows > 0 ? cost[0].length : 0;
  const paired = matches.reduce((s, [i, j]) => s + cost[i][j], 0);
  return paired + (maxCost / 2) * (rows + cols - 2 * matches.length);
}

/** Exhaustive optimum over every partial matching with pair costs <= maxCost (small matrices only). */
function bruteForce(cost: number[][], maxCost: number): number {
  const rows = cost.length;
  const cols = rows > 0 ? cost[0].length : 0;
  let best = Infinity;
  const usedCols = new Array<boolean>(cols).fill(false);
  const walk = (i: number, acc: [number, number][]) => {
    if (i === rows) {
      best = Math.min(best, gatedCost(cost, maxCost, acc));
      return;
    }
    walk(i + 1, acc);
    for (let j = 0; j < cols; j++) {
      if (usedCols[j] || cost[i][j] > maxCost) continue;
      usedCols[j] = true;
      walk(i + 1, [...acc, [i, j]]);
      usedCols[j] = false;
    }
  };
  walk(0, []);
  return best;
}

describe('solveAssignment', () => {
  it('keeps a near-perfect pair instead of trading it for two mediocre ones', () => {
    // Track A fits detection 0 almost perfectly and detection 1 poorly; track B only fits detection 0, poorly.
    // A plain rectangular Hungarian pairs A-1 and B-0 (total 1.45); the gated optimum is A-0 alone (0.1 + 0.8).
    const result = solveAssignment(
      [
        [0.1, 0.7],
        [0.75, 5],
      ],
      0.8,
    );
    expect(result.matches).toEqual([[0, 0]]);
    expect(result.unmatchedRows).toEqual([1]);
    expect(result.unmatchedCols).toEqual([1]);
  });

  it('never pairs above the gate and handles empty sides', () => {
    expect(solveAssignment([[0.9]], 0.8)).toEqual({ matches: [], unmatchedRows: [0], unmatchedCols: [0] });
    expect(solveAssignment([[Infinity, 0.2]], 0.8).matches).toEqual([[0, 1]]);
    expect(solveAssignment([], 0.8)).toEqual({ matches: [], unmatchedRows: [], unmatchedCols: [] });
    expect(solveAssignment([[], []], 0.8)).toEqual({ matches: [], unmatchedRows: [0, 1], unmatchedCols: [] });
    expect(solveAssignment([], 0.8, 2)).toEqual({ matches: [], unmatchedRows: [], unmatchedCols: [0, 1] });
  });

  it('finds the optimum of the gated problem (exhaustive check on small matrices)', () => {
    const matrix = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([r, c]) =>
      fc.array(fc.array(fc.double({ min: 0, max: 1.2, noNaN: true }), { minLength: c, maxLength: c }), {
        minLength: r,
        maxLength: r,
      }),
    );
    fc.assert(
      fc.property(matrix, fc.double({ min: 0.1, max: 1, noNaN: true }), (cost, maxCost) => {
        const result = solveAssignment(cost, maxCost);
        for (const [i, j] of result.matches) expect(cost[i][j]).toBeLessThanOrEqual(maxCost);
        const rows = new Set(result.matches.map(([i]) => i));
        const cols = new Set(result.matches.map(([, j]) => j));
        expect(rows.size).toBe(result.matches.length);
        expect(cols.size).toBe(result.matches.length);
        expect(result.unmatchedRows.length + rows.size).toBe(cost.length);
        expect(result.unmatchedCols.length + cols.size).toBe(cost[0].length);
        expect(gatedCost(cost, maxCost, result.matches)).toBeCloseTo(bruteForce(cost, maxCost), 9);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the optimum on sparse matrices that split into several independent parts', () => {
    // Mostly forbidden pairs (cost above maxCost or Infinity): the shape of real frames, many small groups.
    const cell = fc.oneof(
      { weight: 3, arbitrary: fc.constant(Infinity) },
      { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
    );
    const matrix = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
      .chain(([r, c]) => fc.array(fc.array(cell, { minLength: c, maxLength: c }), { minLength: r, maxLength: r }));
    fc.assert(
      fc.property(matrix, (cost) => {
        const result = solveAssignment(cost, 0.8);
        for (const [i, j] of result.matches) expect(cost[i][j]).toBeLessThanOrEqual(0.8);
        expect(new Set(result.matches.map(([i]) => i)).size).toBe(result.matches.length);
        expect(new Set(result.matches.map(([, j]) => j)).size).toBe(result.matches.length);
        expect(gatedCost(cost, 0.8, result.matches)).toBeCloseTo(bruteForce(cost, 0.8), 9);
      }),
      { numRuns: 300 },
    );
  });
});
