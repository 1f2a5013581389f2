/**
 * Fires once when nothing has been fed for `timeoutMs`. Feeding only stores a timestamp: at 10-30 frames/s per camera
 * re-creating a timer for every frame would be wasted work, so the timer re-arms itself for the remaining time when
 * it wakes up early.
 */
export class StallWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFeed = 0;
  private timeoutMs = 0;
  private armed = false;

  constructor(
    private readonly onStall: (silentMs: number) => void,
    // Resolved at call time so jest's fake timers, installed after import, still apply.
    private readonly now: () => number = () => Date.now(),
  ) {}

  get isArmed(): boolean {
    return this.armed;
  }

  /** (Re)starts watching with a fresh silence budget; counts from now. */
  arm(timeoutMs: number): void {
    this.disarm();
    this.timeoutMs = timeoutMs;
    this.lastFeed = this.now();
    this.armed = true;
    this.schedule(timeoutMs);
  }

  /** Proof of life. */
  feed(): void {
    this.lastFeed = this.now();
  }

  disarm(): void {
    this.armed = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(0, ms));
  }

  private check(): void {
    this.timer = undefined;
    if (!this.armed) return;
    const silent = this.now() - this.lastFeed;
    if (silent >= this.timeoutMs) {
      this.armed = false;
      this.onStall(silent);
    } else {
      this.schedule(this.timeoutMs - silent);
    }
  }
}
