/**
 * One-slot mailbox between a fast producer (the camera) and a slower consumer (inference): the newest item wins.
 * A put while the slot is full overwrites the old item and counts it as dropped, so memory stays at one frame and
 * the consumer always analyses the most recent picture instead of working through a growing backlog.
 */
export class LatestMailbox<T> {
  private item: T | undefined;
  private full = false;
  private readonly waiters: Array<(item: T | null) => void> = [];
  private ended = false;
  private _dropped = 0;
  private _delivered = 0;

  get dropped(): number {
    return this._dropped;
  }

  get delivered(): number {
    return this._delivered;
  }

  /** An item waits in the slot, not yet taken. */
  get hasItem(): boolean {
    return this.full;
  }

  /** True once end() or close() was called; no further puts are accepted. */
  get isClosed(): boolean {
    return this.ended;
  }

  put(item: T): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this._delivered++;
      waiter(item);
      return;
    }
    if (this.full) this._dropped++;
    this.item = item;
    this.full = true;
  }

  /** The next item; waits when the slot is empty; null once the mailbox is ended and empty. */
  take(): Promise<T | null> {
    if (this.full) {
      const item = this.item as T;
      this.item = undefined;
      this.full = false;
      this._delivered++;
      return Promise.resolve(item);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** No more puts; an item still in the slot is delivered, then takers get null. */
  end(): void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }

  /** No more puts and the slot is discarded; every taker gets null. */
  close(): void {
    this.item = undefined;
    this.full = false;
    this.end();
  }
}
