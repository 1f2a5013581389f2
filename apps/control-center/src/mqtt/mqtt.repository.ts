import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Writable } from 'node:stream';
import { subscriptions } from '@vigil/contracts';
import { redactUrl } from '@vigil/common';
import type { Logger } from '../common/logger';

export interface IncomingMqttMessage {
  topic: string;
  payload: Buffer;
  receivedAt: Date;
}

export interface MqttConnectOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Shared-subscription group; null subscribes plainly (the embedded broker takes `$share/...` literally). */
  shareGroup: string | null;
  /** MQTT 5 when the broker accepts it; 3.1.1 is the baseline. */
  protocolVersion: 4 | 5;
  /** Keep the broker session (and queued QoS 1 messages) across restarts; tests turn it off. */
  persistentSession?: boolean;
}

/**
 * The centre's MQTT session (MQTT.js directly: the Nest MQTT transport acknowledges before the handler runs).
 * Persistent session with a stable client id. Backpressure: the message handler returns whether the consumer has
 * room; when it has none, the next packet is not read until `resume()`, so a database outage cannot fill memory.
 */
export class MqttRepository {
  private client: MqttClient | null = null;
  private paused: (() => void)[] = [];
  private connected = false;

  constructor(
    private readonly options: MqttConnectOptions,
    private readonly logger: Logger,
  ) {}

  get isConnected(): boolean {
    return this.connected;
  }

  get protocolVersion(): 4 | 5 {
    return this.options.protocolVersion;
  }

  /**
   * Connects and subscribes to every edge topic, in the background: a broker that is down at start-up shows as
   * not ready (health) and is retried every second, instead of keeping the centre from starting.
   */
  start(onMessage: (msg: IncomingMqttMessage) => boolean): Promise<void> {
    const o = this.options;
    const persistent = o.persistentSession ?? true;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: o.protocolVersion,
      clean: !persistent,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(o.protocolVersion === 5 && persistent ? { properties: { sessionExpiryInterval: 7 * 24 * 3600 } } : {}),
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const hasRoom = onMessage({ topic: packet.topic, payload, receivedAt: new Date() });
      if (hasRoom) done();
      else this.paused.push(() => done());
    };
    // MQTT.js handles each packet in its own tick, so every PUBACK would be its own socket write (a syscall each;
    // at 20,000 QoS 1 messages/s that alone takes a core). Hold the writes of the packets read in one turn and send
    // them together once the turn's packets are handled.
    let corked = false;
    client.on('packetreceive', () => {
      const stream = client.stream as unknown as Partial<Writable> | undefined;
      if (corked || !stream?.cork || !stream.uncork) return;
      corked = true;
      stream.cork();
      setImmediate(() => {
        corked = false;
        stream.uncork?.();
      });
    });
    const filter = o.shareGroup ? `$share/${o.shareGroup}/${subscriptions.allEdges}` : subscriptions.allEdges;
    const log = this.logger.child({ broker: redactUrl(o.url), clientId: o.clientId });
    client.on('connect', (connack) => {
      log.info({ sessionPresent: connack.sessionPresent, protocolVersion: o.protocolVersion }, 'mqtt connected');
      // Re-subscribing is idempotent and covers brokers that lost the session (e.g. embedded restart).
      client.subscribe(filter, { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'mqtt subscribe failed');
        else this.connected = true;
      });
    });
    client.on('close', () => {
      if (this.connected) log.warn('mqtt connection closed, reconnecting');
      this.connected = false;
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    return Promise.resolve();
  }

  /** Lets packets flow again after the consumer drained. */
  resume(): void {
    const waiting = this.paused;
    this.paused = [];
    for (const done of waiting) done();
  }

  async publish(topic: string, payload: Buffer, opts: { retain?: boolean } = {}): Promise<void> {
    if (!this.client) throw new Error('mqtt client not started');
    await this.client.publishAsync(topic, payload, { qos: 1, retain: opts.retain ?? false });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.resume();
    if (!client) return;
    // MQTT.js's end() can wait for ever on a connection that never came up: bound it, then force it.
    const ended = client.endAsync().then(() => true);
    const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref());
    if (!(await Promise.race([ended, timedOut]))) client.end(true);
  }
}

/**
 * Probes whether the broker accepts MQTT 5 (Mosquitto does, Aedes does not) so the session can use v5 extras;
 * falls back to the 3.1.1 baseline on refusal or timeout.
 */
export async function detectProtocolVersion(
  url: string,
  auth: { username?: string; password?: string },
): Promise<4 | 5> {
  const probe = mqtt.connect(url, {
    ...auth,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    clientId: `vigil-probe-${process.pid}-${Date.now()}`,
  });
  const ok = await new Promise<boolean>((resolve) => {
    probe.once('connect', () => resolve(true));
    probe.once('error', () => resolve(false));
    probe.once('close', () => resolve(false));
  });
  probe.end(true);
  return ok ? 5 : 4;
}
