import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import {
  encodeMessage,
  subscriptions,
  topics,
  type EdgeCameraKind,
  type EdgeNodeKind,
  type MessageInputOf,
  type NodeRef,
  type NodeStatus,
} from '@vigil/contracts';
import { backoffDelay, type BackoffOptions } from '../common/backoff';
import { redactUrl } from '@vigil/common';

export interface EdgeMqttOptions {
  url: string;
  node: NodeRef;
  /** New per process start; part of every message's delivery envelope. */
  bootId?: string;
  version: string;
  configVersion: number | null;
  cameras: string[];
  username?: string;
  password?: string;
  /**
   * MQTT 3.1.1 is the baseline (the embedded broker speaks nothing else). 'auto' probes once per start and uses
   * MQTT 5 when the broker accepts it.
   */
  protocolVersion?: 4 | 5 | 'auto';
  /** MQTT 5 session expiry of the persistent session (3.1.1 sessions never expire). Default 7 days. */
  sessionExpiryS?: number;
  keepaliveS?: number;
  /** Reconnect delays: exponential with downward jitter, so a restarted broker is not stormed by every node. */
  reconnect?: Partial<BackoffOptions>;
}

/** Pino-compatible subset. */
export interface EdgeMqttLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

type JsonEdgeKind = Exclude<EdgeNodeKind | EdgeCameraKind, 'evidence_jpeg'>;

const DEFAULT_RECONNECT: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };
const noopLogger: EdgeMqttLogger = { info: () => undefined, warn: () => undefined };

/**
 * The edge's MQTT session: stable client id per node, persistent session (clean start off), last will = offline
 * node status (retained), QoS 1. Topics and payloads come only from @vigil/contracts, so a message the centre would
 * reject is never sent. Reconnects by itself with jittered backoff; `connected` and `onConnectionChange` let the
 * outbox publisher pause while the link is down.
 */
export class EdgeMqttClient {
  readonly bootId: string;
  private client: MqttClient | null = null;
  private isConnected = false;
  private resolvedVersion: 4 | 5 | null = null;
  private serverReceiveMaximum: number | null = null;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private centreHandler: ((topic: string, payload: Buffer) => void) | null = null;
  private readonly listeners = new Set<(connected: boolean) => void>();
  private readonly reconnect: BackoffOptions;

  constructor(
    private readonly options: EdgeMqttOptions,
    private readonly logger: EdgeMqttLogger = noopLogger,
  ) {
    this.bootId = options.bootId ?? randomUUID();
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  get clientId(): string {
    return `vigil-edge-${this.options.node.siteId}-${this.options.node.nodeId}`;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** The protocol in use once known (after the first connection attempt). */
  get protocolVersion(): 4 | 5 | null {
    return this.resolvedVersion;
  }

  /** MQTT 5 only: how many QoS 1 publishes the broker takes in flight (its CONNACK's receive maximum). */
  get receiveMaximum(): number | null {
    return this.serverReceiveMaximum;
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private status(state: NodeStatus['state'], reason: NodeStatus['reason'], seq?: number): NodeStatus {
    const o = this.options;
    return {
      bootId: this.bootId,
      ...(seq !== undefined ? { seq } : {}),
      ts: new Date().toISOString(),
      state,
      reason,
      version: o.version,
      configVersion: o.configVersion,
      cameras: o.cameras,
    };
  }

  private clientOptions(version: 4 | 5): IClientOptions {
    const o = this.options;
    return {
      clientId: this.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: version,
      clean: false,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: 10_000,
      // Reconnects are scheduled here (jittered backoff); MQTT.js's own timer is a fixed period.
      reconnectPeriod: 0,
      ...(version === 5 ? { properties: { sessionExpiryInterval: o.sessionExpiryS ?? 7 * 86_400 } } : {}),
      will: {
        topic: topics.edgeNode('node_status', o.node),
        payload: encodeMessage('node_status', this.status('offline', 'connection_lost')),
        qos: 1,
        retain: true,
      },
    };
  }

  /** Connects once and resolves when connected; rejects if the broker cannot be reached (then nothing is kept). */
  async connect(): Promise<void> {
    const version = await this.versionToUse();
    const client = this.attach(mqtt.connect(this.options.url, this.clientOptions(version)));
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          client.off('connect', onConnect);
          client.off('error', onError);
          client.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onConnect = () => done();
        const onError = (err: Error) => done(err);
        const onClose = () => done(new Error(`could not connect to ${redactUrl(this.options.url)}`));
        client.on('connect', onConnect);
        client.on('error', onError);
        client.on('close', onClose);
      });
    } catch (err) {
      this.closing = true;
      this.clearReconnect();
      this.client = null;
      await client.endAsync(true);
      this.closing = false;
      throw err;
    }
  }

  /**
   * Starts the session in the background and keeps it up: the broker may be down now (a node restarting during an
   * outage must still come up and fill its outbox). Watch `onConnectionChange`.
   */
  start(): void {
    if (this.client || this.closing) return;
    void this.versionToUse().then((version) => {
      if (this.closing || this.client) return;
      this.attach(mqtt.connect(this.options.url, this.clientOptions(version)));
    });
  }

  private attach(client: MqttClient): MqttClient {
    this.client = client;
    client.on('connect', (connack: IConnackPacket) => {
      this.reconnectAttempt = 0;
      this.serverReceiveMaximum = connack.properties?.receiveMaximum ?? null;
      this.setConnected(true);
      this.logger.info(
        { clientId: this.clientId, sessionPresent: connack.sessionPresent, protocolVersion: this.resolvedVersion },
        'mqtt connected',
      );
      if (this.centreHandler) {
        // Idempotent; covers a broker that lost the session (restart without persistence).
        client.subscribe(subscriptions.centreToNode(this.options.node), { qos: 1 }, (err) => {
          if (err) this.logger.warn({ err: err.message }, 'subscribing to the centre failed');
        });
      }
    });
    client.on('message', (topic, payload) => this.centreHandler?.(topic, payload));
    client.on('error', (err) => this.logger.warn({ err: err.message }, 'mqtt error'));
    client.on('close', () => {
      this.setConnected(false);
      this.scheduleReconnect(client);
    });
    return client;
  }

  private setConnected(value: boolean): void {
    if (this.isConnected === value) return;
    this.isConnected = value;
    for (const l of this.listeners) l(value);
  }

  private scheduleReconnect(client: MqttClient): void {
    if (this.closing || this.client !== client || this.reconnectTimer) return;
    const delay = backoffDelay(++this.reconnectAttempt, this.reconnect);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // Keep MQTT.js's stores: its in-flight QoS 1 publishes are resent on the new connection.
      if (!this.closing && this.client === client) {
        client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
      }
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private async versionToUse(): Promise<4 | 5> {
    const wanted = this.options.protocolVersion ?? 4;
    if (wanted !== 'auto') return (this.resolvedVersion = wanted);
    if (this.resolvedVersion) return this.resolvedVersion;
    for (let attempt = 1; !this.closing; attempt++) {
      const answer = await probeMqtt5(this.options);
      if (answer !== 'unreachable') return (this.resolvedVersion = answer);
      if (this.closing) break;
      await new Promise((r) => setTimeout(r, backoffDelay(attempt, this.reconnect)).unref());
    }
    return 4; // closed before the broker answered: nothing will connect anyway
  }

  /** Subscribes to what the centre sends this node (config, commit acks, replay requests), again on every connect. */
  async subscribeToCentre(onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    this.centreHandler = onMessage;
    if (this.client && this.isConnected) {
      await this.client.subscribeAsync(subscriptions.centreToNode(this.options.node), { qos: 1 });
    }
  }

  async publishNodeStatus(state: NodeStatus['state'], reason: NodeStatus['reason'], seq: number): Promise<void> {
    const topic = topics.edgeNode('node_status', this.options.node);
    await this.requireClient().publishAsync(topic, encodeMessage('node_status', this.status(state, reason, seq)), {
      qos: 1,
      retain: true,
    });
  }

  /** Publishes one contract message at QoS 1; retained where the contract says so. */
  async publish<K extends JsonEdgeKind>(kind: K, cameraId: string | null, message: MessageInputOf<K>): Promise<void> {
    const topic = topics.edge(kind, { ...this.options.node, cameraId });
    const retain = kind === 'camera_status' || kind === 'node_status';
    await this.requireClient().publishAsync(topic, encodeMessage(kind, message), { qos: 1, retain });
  }

  /** Publishes pre-encoded bytes (outbox entries, binary evidence frames); resolves on the broker's PUBACK. */
  async publishRaw(topic: string, payload: Buffer, retain = false): Promise<void> {
    await this.requireClient().publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Drops the connection without a DISCONNECT, as a crash or a cut cable would (the broker sends the will). */
  simulateConnectionLoss(): void {
    this.closing = true;
    this.clearReconnect();
    this.requireClient().stream.destroy();
    this.client?.end(true);
    this.client = null;
    this.setConnected(false);
    this.closing = false;
  }

  /**
   * Clean DISCONNECT (no will) once the publishes awaiting PUBACK are acknowledged, at most `timeoutMs`; after that,
   * or when the link is already down, the socket is just closed (MQTT.js would otherwise wait for ever).
   */
  async close(timeoutMs = 3000): Promise<void> {
    this.closing = true;
    this.clearReconnect();
    const client = this.client;
    this.client = null;
    if (client) {
      if (!this.isConnected) {
        await client.endAsync(true);
      } else {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
        const clean = client.endAsync().then(() => false);
        if (await Promise.race([clean, timedOut])) client.stream.destroy();
        clearTimeout(timer);
      }
    }
    this.setConnected(false);
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('edge MQTT client is not connected');
    return this.client;
  }
}

/** 5 if the broker accepts an MQTT 5 CONNECT, 4 if it refuses it, 'unreachable' if nothing answered. */
async function probeMqtt5(o: EdgeMqttOptions): Promise<4 | 5 | 'unreachable'> {
  const probe = mqtt.connect(o.url, {
    username: o.username,
    password: o.password,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `vigil-probe-${o.node.nodeId}-${process.pid}-${Date.now()}`.slice(0, 64),
  });
  let socketOpened = false;
  probe.stream?.once('connect', () => (socketOpened = true));
  const answer = await new Promise<4 | 5 | 'unreachable'>((resolve) => {
    probe.once('connect', () => resolve(5));
    // A socket-level failure (refused, unreachable, DNS) says nothing about the protocol; a refusal after the
    // socket opened (CONNACK reason code, or the 3.1.1 broker closing on a v5 CONNECT) means 3.1.1 only.
    probe.once('error', (err: Error & { code?: unknown }) => resolve(typeof err.code === 'string' ? 'unreachable' : 4));
    probe.once('close', () => resolve(socketOpened ? 4 : 'unreachable'));
  });
  await probe.endAsync(true);
  return answer;
}
