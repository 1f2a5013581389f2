import { performance } from 'node:perf_hooks';

/**
 * Two clocks, because they answer different questions. `monoMs` measures durations (dwell, Kalman steps, the
 * lost-track buffer, hysteresis windows): it never jumps, whatever NTP or an operator does to the system time.
 * `wallMs` says what time it is (schedules, count interval edges, message timestamps).
 */
export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin. */
  monoMs(): number;
  /** Wall-clock milliseconds since the epoch (Date.now()). */
  wallMs(): number;
}

export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
};
