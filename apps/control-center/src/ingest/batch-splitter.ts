/**
 * SQLSTATE classes that mean "the database will not take this data", whoever sends it and however often: 22 data
 * exception (bad encoding, out of range, invalid text), 23 integrity constraint violation, 54 program limit exceeded
 * (a value or row too large). Anything else (08 connection, 40 transaction rollback, 53 insufficient resources,
 * 57 operator intervention, XX internal, errors without a SQLSTATE) is about the database, not the data: retried.
 */
export const DATA_ERROR_CLASSES: readonly string[] = ['22', '23', '54'];

/** A data error as the database reported it: what a dead letter records. */
export interface DataError {
  /** SQLSTATE, e.g. `22021`. */
  code: string;
  message: string;
  detail?: string;
}

/** The data error an exception carries, or null when it is anything else. Decided by SQLSTATE, never by text. */
export function dataErrorOf(err: unknown): DataError | null {
  if (typeof err !== 'object' || err === null) return null;
  const { code, message, detail } = err as { code?: unknown; message?: unknown; detail?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return null;
  if (!DATA_ERROR_CLASSES.includes(code.slice(0, 2))) return null;
  return {
    code,
    message: typeof message === 'string' ? message : '',
    ...(typeof detail === 'string' && detail ? { detail } : {}),
  };
}

/** What isolating the units that a data error came from did. */
export interface BisectOutcome {
  /** Commits that failed with a data error and were split in two. */
  splits: number;
  /** Units isolated as the cause (each handed to `refuse`). */
  refused: number;
}

/**
 * Commits `units` in one go; when that fails with a data error, commits each half the same way, down to the single
 * units the database refuses, which go to `refuse` (e.g. a dead letter). Everything else is committed, in order.
 * `commit` owns retrying errors that are not data errors (it throws one only when it gives up); such an error
 * stops the bisection and is thrown. A batch with k refused units of n costs at most about 2k·log2(n) commits.
 */
export async function commitBisecting<U>(
  units: readonly U[],
  commit: (units: U[]) => Promise<void>,
  refuse: (unit: U, error: DataError) => Promise<void>,
  outcome: BisectOutcome = { splits: 0, refused: 0 },
): Promise<BisectOutcome> {
  if (units.length === 0) return outcome;
  try {
    await commit([...units]);
    return outcome;
  } catch (err) {
    const error = dataErrorOf(err);
    if (!error) throw err;
    if (units.length === 1) {
      outcome.refused++;
      await refuse(units[0], error);
      return outcome;
    }
    outcome.splits++;
    const mid = Math.ceil(units.length / 2);
    await commitBisecting(units.slice(0, mid), commit, refuse, outcome);
    await commitBisecting(units.slice(mid), commit, refuse, outcome);
    return outcome;
  }
}
