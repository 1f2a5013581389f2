import fc from 'fast-check';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffBase, backoffDelay, validateBackoff } from './backoff';

describe('backoff', () => {
  it('defaults to 1 s doubling up to 60 s', () => {
    const bases = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => backoffBase(a, DEFAULT_BACKOFF));
    expect(bases).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('without randomness (random() = 0) returns the base delay exactly', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(4_000);
  });

  it('stays within [base * (1 - jitter), base] and never above maxMs, for any attempt and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.record({
          initialMs: fc.integer({ min: 1, max: 5_000 }),
          extra: fc.integer({ min: 0, max: 120_000 }),
          factor: fc.double({ min: 1, max: 4, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        (attempt, u, r) => {
          const o: BackoffOptions = {
            initialMs: r.initialMs,
            maxMs: r.initialMs + r.extra,
            factor: r.factor,
            jitter: r.jitter,
          };
          const base = backoffBase(attempt, o);
          const d = backoffDelay(attempt, o, () => u);
          expect(Number.isFinite(d)).toBe(true);
          expect(d).toBeLessThanOrEqual(o.maxMs);
          expect(d).toBeLessThanOrEqual(Math.round(base));
          expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - o.jitter)));
        },
      ),
    );
  });

  it('spreads retries of the same attempt (jitter), deterministically for a given draw', () => {
    const delays = [0, 0.25, 0.5, 0.75, 0.999].map((u) => backoffDelay(4, DEFAULT_BACKOFF, () => u));
    expect(new Set(delays).size).toBe(5);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8_000 * 0.7 - 1);
    expect(Math.max(...delays)).toBe(8_000);
    expect(backoffDelay(4, DEFAULT_BACKOFF, () => 0.5)).toBe(backoffDelay(4, DEFAULT_BACKOFF, () => 0.5));
  });

  it('grows monotonically in its base until the cap', () => {
    let prev = 0;
    for (let a = 1; a <= 12; a++) {
      const b = backoffBase(a, DEFAULT_BACKOFF);
      expect(b).toBeGreaterThanOrEqual(prev);
      prev = b;
    }
    expect(prev).toBe(60_000);
  });

  it('rejects nonsense settings', () => {
    expect(() => validateBackoff({ ...DEFAULT_BACKOFF, maxMs: 10 })).toThrow('invalid backoff');
    expect(() => validateBackoff({ ...DEFAULT_BACKOFF, jitter: 1.5 })).toThrow('invalid backoff');
    expect(() => validateBackoff({ ...DEFAULT_BACKOFF, factor: 0.5 })).toThrow('invalid backoff');
    expect(() => validateBackoff(DEFAULT_BACKOFF)).not.toThrow();
  });
});
