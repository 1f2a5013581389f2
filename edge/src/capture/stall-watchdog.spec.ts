import { StallWatchdog } from './stall-watchdog';

describe('StallWatchdog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires once after the timeout without feeding, reporting the silence', () => {
    const stalls: number[] = [];
    const dog = new StallWatchdog((ms) => stalls.push(ms));
    dog.arm(5_000);
    jest.advanceTimersByTime(4_999);
    expect(stalls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stalls).toEqual([5_000]);
    jest.advanceTimersByTime(60_000);
    expect(stalls).toHaveLength(1);
    expect(dog.isArmed).toBe(false);
  });

  it('does not fire while fed, and fires a full timeout after the last feed', () => {
    const stalls: number[] = [];
    const dog = new StallWatchdog((ms) => stalls.push(ms));
    dog.arm(1_000);
    for (let i = 0; i < 50; i++) {
      jest.advanceTimersByTime(100);
      dog.feed();
    }
    expect(stalls).toEqual([]);
    jest.advanceTimersByTime(999);
    expect(stalls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stalls).toEqual([1_000]);
  });

  it('keeps a single timer however often it is fed', () => {
    const dog = new StallWatchdog(() => undefined);
    dog.arm(1_000);
    for (let i = 0; i < 100; i++) dog.feed();
    expect(jest.getTimerCount()).toBe(1);
  });

  it('disarm() cancels; re-arming starts a fresh budget', () => {
    const stalls: number[] = [];
    const dog = new StallWatchdog((ms) => stalls.push(ms));
    dog.arm(1_000);
    jest.advanceTimersByTime(900);
    dog.disarm();
    jest.advanceTimersByTime(5_000);
    expect(stalls).toEqual([]);
    dog.arm(2_000);
    jest.advanceTimersByTime(1_999);
    expect(stalls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stalls).toEqual([2_000]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
