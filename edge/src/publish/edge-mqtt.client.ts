import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  encodeMessage,
  subscriptions,
  topics,
  type CameraRef,
  type EdgeCameraKind,
  type EdgeNodeKind,
  type MessageInputOf,
  type NodeRef,
  type NodeStatus,
} from '@vigil/contracts';

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
  /** MQTT 3.1.1 is the baseline (the embedded broker speaks nothing else). */
  protocolVersion?: 4 | 5;
}

type JsonEdgeKind = Exclude<EdgeNodeKind | EdgeCameraKind, 'evidence_jpeg'>;

/**
 * The edge's MQTT session: stable client id per node, last will = offline node status (retained), QoS 1.
 * Topics and payloads come only from @vigil/contracts, so a message the centre would reject is never sent.
 */
export class EdgeMqttClient {
  readonly bootId: string;
  private client: MqttClient | null = null;

  constructor(private readonly options: EdgeMqttOptions) {
    this.bootId = options.bootId ?? randomUUID();
  }

  get clientId(): string {
    return `vigil-edge-${this.options.node.siteId}-${this.options.node.nodeId}`;
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

  async connect(): Promise<void> {
    const o = this.options;
    const statusTopic = topics.edgeNode('node_status', o.node);
    this.client = await mqtt.connectAsync(o.url, {
      clientId: this.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: o.protocolVersion ?? 4,
      clean: false,
      reconnectPeriod: 1000,
      will: {
        topic: statusTopic,
        payload: encodeMessage('node_status', this.status('offline', 'connection_lost')),
        qos: 1,
        retain: true,
      },
    });
  }

  /** Subscribes to what the centre sends this node (config, commit acks, replay requests). */
  async subscribeToCentre(onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    const client = this.requireClient();
    client.on('message', (topic, payload) => onMessage(topic, payload));
    await client.subscribeAsync(subscriptions.centreToNode(this.options.node), { qos: 1 });
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
    const topic = topicFor(kind, this.options.node, cameraId);
    const retain = kind === 'camera_status' || kind === 'node_status';
    await this.requireClient().publishAsync(topic, encodeMessage(kind, message), { qos: 1, retain });
  }

  /** Publishes pre-encoded bytes (outbox replay, binary evidence frames). */
  async publishRaw(topic: string, payload: Buffer, retain = false): Promise<void> {
    await this.requireClient().publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Drops the connection without a DISCONNECT, as a crash or a cut cable would (the broker sends the will). */
  simulateConnectionLoss(): void {
    this.requireClient().stream.destroy();
    this.client?.end(true);
    this.client = null;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync();
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('edge MQTT client is not connected');
    return this.client;
  }
}

export function topicFor(kind: EdgeNodeKind | EdgeCameraKind, node: NodeRef, cameraId: string | null): string {
  if (kind === 'node_status' || kind === 'heartbeat' || kind === 'config_ack') return topics.edgeNode(kind, node);
  if (cameraId === null) throw new TypeError(`${kind} messages need a camera id`);
  const ref: CameraRef = { ...node, cameraId };
  return topics.edgeCamera(kind, ref);
}
