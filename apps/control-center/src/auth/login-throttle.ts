/**
 * Failed-login counter, per username and per client address, in a sliding window (default 15 minutes). Kept in
 * process memory: enough for one centre (a restart forgets it; several replicas each count their own share).
 * A successful login clears its username's failures, not its address's.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
    private readonly windowMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a try is allowed again for this username/address; 0 when allowed now. */
  retryAfterS(username: string, ip: string): number {
    return Math.max(this.blockedFor(`u:${username}`, this.maxPerUser), this.blockedFor(`ip:${ip}`, this.maxPerIp));
  }

  recordFailure(username: string, ip: string): void {
    for (const key of [`u:${username}`, `ip:${ip}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune();
  }

  recordSuccess(username: string): void {
    this.failures.delete(`u:${username}`);
  }

  private blockedFor(key: string, max: number): number {
    const list = this.recent(key);
    if (list.length < max) return 0;
    // Allowed again once the oldest failure that keeps the count at `max` leaves the window.
    const oldest = list[list.length - max];
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Bounds memory under a spray of usernames: drops keys with no failure in the window. */
  private prune(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
  }
}
