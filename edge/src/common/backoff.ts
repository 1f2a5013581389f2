export interface BackoffOptions {
  /** Delay of the first retry, in ms. */
  initialMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /**
   * Fraction of the delay that is randomised, 0..1: the delay is drawn from [base * (1 - jitter), base]. It spreads
   * the retries of cameras that failed together (a switch reboot), so they do not reconnect in lockstep.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.3 };

export function validateBackoff(o: BackoffOptions): void {
  if (!(o.initialMs > 0) || !(o.maxMs >= o.initialMs) || !(o.factor >= 1) || !(o.jitter >= 0 && o.jitter <= 1)) {
    throw new Error(
      `invalid backoff: need 0 < initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1 (got ${JSON.stringify(o)})`,
    );
  }
}

/** The un-jittered delay of an attempt: initialMs * factor^(attempt-1), capped at maxMs. */
export function backoffBase(attempt: number, o: BackoffOptions): number {
  const n = Math.max(1, Math.floor(attempt));
  // Exponent capped so huge attempt numbers cannot overflow to Infinity * 0 = NaN.
  return Math.min(o.maxMs, o.initialMs * Math.pow(o.factor, Math.min(n - 1, 64)));
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential growth, capped, with jitter downwards so the
 * cap is never exceeded. `random` returns values in [0, 1) like Math.random.
 */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const base = backoffBase(attempt, o);
  const u = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - o.jitter * u));
}
