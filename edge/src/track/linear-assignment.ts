import { munkres } from 'munkres';

export interface Assignment {
  /** [row, col] pairs, each with cost <= maxCost. */
  matches: [row: number, col: number][];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/** Stands in for "forbidden"; far above any IoU cost (<= 1) so it is never worth choosing. */
const FORBIDDEN = 1e6;

/**
 * Minimum-cost assignment of rows (tracks) to columns (detections) in which leaving a row and a column unmatched
 * costs `maxCost` (half each), like `lap.lapjv(cost, extend_cost=True, cost_limit=maxCost)` that ByteTrack uses.
 *
 * Why the extension instead of a plain rectangular Hungarian followed by a threshold: a plain solver maximises the
 * number of pairs first, so it may give up a near-perfect match to pair two mediocre ones (track A takes its
 * second-best detection so that track B gets A's best). With the dummy rows and columns, a pair is only made when
 * it is cheaper than leaving both sides unmatched, which is the optimal gated assignment.
 *
 * The solver is the `munkres` package (MIT, O(n^3), no dependencies). `cols` must be given when there are no rows
 * (an empty matrix has no row to read the width from).
 */
export function solveAssignment(
  cost: readonly (readonly number[])[],
  maxCost: number,
  cols: number = cost.length > 0 ? cost[0].length : 0,
): Assignment {
  const rows = cost.length;
  if (rows === 0 || cols === 0) {
    return { matches: [], unmatchedRows: range(rows), unmatchedCols: range(cols) };
  }
  // The gated problem splits into independent parts along admissible pairs (cost <= maxCost): a pair outside them
  // is never chosen, and every unmatched row or column costs the same. In a street scene most tracks overlap one
  // detection and nothing else, so most parts are a single pair, settled without the O(n^3) solver.
  const parent = range(rows + cols);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  let admissible = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (!isAdmissible(cost[i][j], maxCost)) continue;
      admissible++;
      const a = find(i);
      const b = find(rows + j);
      if (a !== b) parent[a] = b;
    }
  }
  const matches: [number, number][] = [];
  if (admissible > 0) {
    const parts = new Map<number, { rows: number[]; cols: number[] }>();
    const partOf = (x: number) => {
      const root = find(x);
      let part = parts.get(root);
      if (!part) parts.set(root, (part = { rows: [], cols: [] }));
      return part;
    };
    for (let i = 0; i < rows; i++) partOf(i).rows.push(i);
    for (let j = 0; j < cols; j++) partOf(rows + j).cols.push(j);
    for (const part of parts.values()) {
      if (part.rows.length === 0 || part.cols.length === 0) continue;
      if (part.rows.length === 1 && part.cols.length === 1) {
        matches.push([part.rows[0], part.cols[0]]); // one admissible pair: never worse than leaving both
        continue;
      }
      for (const [i, j] of solveDense(cost, maxCost, part.rows, part.cols)) matches.push([i, j]);
    }
  }
  const rowMatched = new Array<boolean>(rows).fill(false);
  const colMatched = new Array<boolean>(cols).fill(false);
  for (const [i, j] of matches) {
    rowMatched[i] = true;
    colMatched[j] = true;
  }
  matches.sort((a, b) => a[0] - b[0]);
  return {
    matches,
    unmatchedRows: range(rows).filter((i) => !rowMatched[i]),
    unmatchedCols: range(cols).filter((j) => !colMatched[j]),
  };
}

function isAdmissible(c: number, maxCost: number): boolean {
  return Number.isFinite(c) && c <= maxCost;
}

/** The extended (dummy rows and columns) problem on a subset of rows and columns, solved by munkres. */
function solveDense(
  cost: readonly (readonly number[])[],
  maxCost: number,
  rowIds: readonly number[],
  colIds: readonly number[],
): [number, number][] {
  const rows = rowIds.length;
  const cols = colIds.length;
  const n = rows + cols;
  const half = maxCost / 2;
  const square: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      if (i < rows && j < cols) {
        const c = cost[rowIds[i]][colIds[j]];
        row[j] = isAdmissible(c, maxCost) ? c : FORBIDDEN;
      } else if (i < rows || j < cols) {
        row[j] = half; // a real row to a dummy column, or a dummy row to a real column
      } else {
        row[j] = 0; // dummy to dummy
      }
    }
    square.push(row);
  }
  const out: [number, number][] = [];
  for (const [i, j] of munkres(square)) {
    if (i < rows && j < cols && square[i][j] <= maxCost) out.push([rowIds[i], colIds[j]]);
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
