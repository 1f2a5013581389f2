import { LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('blocks a username after its failures, for the rest of the window, and clears on success', () => {
    const t = new LoginThrottle(3, 100, 60_000, clock);
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterS('ana', `10.0.0.${i}`)).toBe(0);
      t.recordFailure('ana', `10.0.0.${i}`);
      now += 1000;
    }
    expect(t.retryAfterS('ana', '10.9.9.9')).toBe(57); // the first failure (3 s ago) leaves the 60 s window in 57 s
    expect(t.retryAfterS('bob', '10.9.9.9')).toBe(0);
    now += 57_000;
    expect(t.retryAfterS('ana', '10.9.9.9')).toBe(0);
    t.recordFailure('ana', '10.0.0.1');
    t.recordSuccess('ana');
    expect(t.retryAfterS('ana', '10.9.9.9')).toBe(0);
  });

  it('blocks an address spraying usernames', () => {
    const t = new LoginThrottle(5, 4, 60_000, clock);
    for (let i = 0; i < 4; i++) t.recordFailure(`user${i}`, '192.0.2.7');
    expect(t.retryAfterS('fresh', '192.0.2.7')).toBeGreaterThan(0);
    expect(t.retryAfterS('fresh', '192.0.2.8')).toBe(0);
  });
});
