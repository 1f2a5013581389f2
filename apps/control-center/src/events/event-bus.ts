import type { EventMap, EventName } from './event-map';

export type EventHandler<E extends EventName> = (payload: Readonly<EventMap[E]>) => void | Promise<void>;

/**
 * Typed in-process publish/subscribe. Handlers run in the emitter's turn, in subscription order; a handler that
 * throws or rejects is logged and never reaches the emitter (ingest must not retry a committed batch because a
 * subscriber failed) nor the other handlers. Payloads are shared between handlers: treat them as read-only.
 */
export class EventBus {
  private readonly handlers = new Map<EventName, Set<EventHandler<never>>>();

  constructor(private readonly logger: { error(obj: object, msg?: string): void }) {}

  /** Subscribes; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: EventHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const h = handler as EventHandler<never>;
    set.add(h);
    return () => void set.delete(h);
  }

  /** Calls every handler of `event`; returns without waiting for asynchronous handlers. Never throws. */
  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set] as EventHandler<E>[]) {
      try {
        const result = handler(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.failed(event, err));
      } catch (err) {
        this.failed(event, err);
      }
    }
  }

  /** Handlers subscribed to `event` (diagnostics and tests). */
  listenerCount(event: EventName): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  private failed(event: EventName, err: unknown): void {
    this.logger.error({ event, err: err instanceof Error ? err.message : String(err) }, 'event handler failed');
  }
}
