import type { EdgeConfig, SnapshotRequest, Heartbeat, NodeStatus } from '@vigil/contracts';
import { EdgeMqttClient, type EdgeMqttLogger, type EdgeMqttOptions } from '../publish/edge-mqtt.client';
import { OutboxPublisher, type OutboxPublisherOptions } from './outbox.publisher';
import { Outbox, type OutboxOptions } from './outbox.store';
import { noopOutboxLogger, type EnqueueResult, type OutboxItem, type OutboxLogger } from './outbox.types';

export interface EdgeDeliveryOptions {
  mqtt: Omit<EdgeMqttOptions, 'bootId' | 'node'>;
  outbox: OutboxOptions;
  publisher?: OutboxPublisherOptions;
  /** Configuration documents from the centre (retained topic), already validated against the contract. */
  onConfig?: (config: EdgeConfig) => void;
  /**
   * A configuration document that fails the contract: the edge must still answer with a rejected ack naming the
   * fields, for the version it claims (when that much is readable).
   */
  onConfigRejected?: (version: number, errors: { path: string; message: string }[]) => void;
  /** An operator's snapshot request for one of this node's cameras. */
  onSnapshot?: (request: SnapshotRequest) => void;
  logger?: OutboxLogger & EdgeMqttLogger;
}

/**
 * The edge's delivery path in one place: durable outbox + MQTT session + publisher, with the centre's commit acks
 * and replay requests wired in. The node's own status goes through the outbox too (it carries a seq the centre
 * tracks); only the last will, fixed at connect time, does not.
 */
export class EdgeDelivery {
  readonly outbox: Outbox;
  readonly client: EdgeMqttClient;
  readonly publisher: OutboxPublisher;
  private readonly options: EdgeDeliveryOptions;
  private started = false;

  private constructor(options: EdgeDeliveryOptions) {
    this.options = options;
    const logger = options.logger ?? { ...noopOutboxLogger };
    this.outbox = Outbox.open({ logger, ...options.outbox });
    this.client = new EdgeMqttClient(
      { ...options.mqtt, node: options.outbox.node, bootId: this.outbox.bootId },
      options.logger,
    );
    this.publisher = new OutboxPublisher(this.outbox, this.client, { logger, ...options.publisher });
  }

  /** Opens the outbox (synchronously: a second process on the same directory fails here). */
  static open(options: EdgeDeliveryOptions): EdgeDelivery {
    return new EdgeDelivery(options);
  }

  get bootId(): string {
    return this.outbox.bootId;
  }

  /** Announces the node (retained `online` status through the outbox) and starts delivering; never waits for the broker. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.enqueue({ kind: 'node_status', cameraId: null, message: this.nodeStatus('online', 'started') });
    await this.client.subscribeToCentre((topic, payload) => {
      const r = this.publisher.handleCentreMessage(topic, payload);
      if (r.ok && r.kind === 'config') this.options.onConfig?.(r.message);
      else if (r.ok && r.kind === 'snapshot') this.options.onSnapshot?.(r.message);
      else if (!r.ok && r.topic?.kind === 'config' && payload.length > 0) this.rejectConfig(payload, r.error);
    });
    this.client.start();
    this.publisher.start();
  }

  enqueue(item: OutboxItem): EnqueueResult {
    return this.outbox.enqueue(item);
  }

  /** One transaction for everything one frame produced. */
  enqueueMany(items: readonly OutboxItem[]): EnqueueResult[] {
    return this.outbox.enqueueMany(items);
  }

  /** The heartbeat's `outbox` section. */
  heartbeatOutbox(): Heartbeat['outbox'] {
    return this.outbox.heartbeatStats();
  }

  /**
   * Clean shutdown: a retained `offline` status goes into the outbox, the publisher gets up to `drainMs` to deliver
   * and see everything committed, then a clean DISCONNECT (no will). What is left stays on disk for the next boot.
   */
  async stop(drainMs = 5000): Promise<{ drained: boolean }> {
    let drained = this.outbox.depth === 0;
    if (this.started) {
      this.enqueue({ kind: 'node_status', cameraId: null, message: this.nodeStatus('offline', 'shutdown') });
      drained = await this.publisher.drain(drainMs);
      await this.publisher.stop();
    }
    await this.client.close();
    this.outbox.close();
    return { drained };
  }

  private rejectConfig(payload: Buffer, error: { path: string; reason: string }): void {
    let version: unknown;
    try {
      version = (JSON.parse(payload.toString('utf8')) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) return;
    // The reason lists up to five "path: message" parts; keep each as its own error.
    const errors = error.reason.split('; ').map((part) => {
      const i = part.indexOf(': ');
      return i > 0 ? { path: part.slice(0, i), message: part.slice(i + 2) } : { path: error.path, message: part };
    });
    this.options.onConfigRejected?.(version, errors);
  }

  private nodeStatus(state: NodeStatus['state'], reason: NodeStatus['reason']) {
    const m = this.options.mqtt;
    return { state, reason, version: m.version, configVersion: m.configVersion, cameras: m.cameras };
  }
}
