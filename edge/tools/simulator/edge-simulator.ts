import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeBatch, parseMessage, subscriptions, topics, type DetectionEvent, type NodeRef } from '@vigil/contracts';

/**
 * A simulated edge fleet for tests and benchmarks. Speaks the real contracts over real MQTT, keeps an in-memory
 * outbox per device (entries leave only when a commit ack covers them), answers replay requests, resends what stays
 * unacknowledged, and keeps the full history of what it created so a test can check "exactly once" end to end.
 */
export interface SimulatorOptions {
  url: string;
  siteId: string;
  devices: number;
  /** Messages per second per device (0 = as fast as the in-flight window allows). */
  ratePerDevice: number;
  /** Stop after this many messages per device. */
  messagesPerDevice: number;
  /** Resend entries not acknowledged after this long. */
  resendAfterMs?: number;
  /** Most unacknowledged-by-broker publishes in flight per device. */
  inflight?: number;
  /** Seqs to leave out on their first send (to create gaps the centre must notice). */
  skipFirstSend?: (nodeIndex: number, seq: number) => boolean;
  protocolVersion?: 4 | 5;
  /**
   * 1 (default): one MQTT message per event. Above 1: every `batchTickMs` a device sends the events that came due
   * since its last send as `batch` messages of up to this many entries, as an edge outbox does with a backlog.
   */
  batchEntries?: number;
  /** Send cadence when batching. Default 10 ms. */
  batchTickMs?: number;
}

interface OutboxEntry {
  topic: string;
  payload: Buffer;
  firstSentAt: number;
  lastSentAt: number;
}

export interface SimulatedDevice {
  node: NodeRef;
  bootId: string;
  created: number;
  outbox: Map<number, OutboxEntry>;
  committedUpTo: number;
  replayRequests: number;
  resends: number;
  latenciesMs: number[];
}

const MODEL = {
  modelId: 'yolox_nano_416',
  sha256: 'c0ffee'.padEnd(64, '0'),
  scoreThreshold: 0.3,
  nmsIou: 0.45,
} as const;

/** The detection event a simulated device emits as message `seq` (deterministic but for its event id). */
export function simulatedEvent(bootId: string, seq: number, now: Date, eventId = randomUUID()): DetectionEvent {
  const ts = now.toISOString();
  return {
    bootId,
    seq,
    ts,
    eventId,
    phase: 'start',
    kind: seq % 2 === 0 ? 'parking_violation' : 'pedestrian_blocking',
    ruleId: 'rule-1',
    zoneId: 'zone-1',
    objectClass: 'car',
    trackId: seq,
    score: 0.8,
    maxScore: 0.9,
    box: [0.1, 0.1, 0.3, 0.3],
    startedAt: ts,
    endedAt: null,
    endReason: null,
    dwellSeconds: 30,
    pedestriansPresent: seq % 2 === 0 ? null : 2,
    evidence: null,
    model: MODEL,
  };
}

const MODEL_JSON = JSON.stringify(MODEL);

/**
 * `JSON.stringify(simulatedEvent(bootId, seq, ts, eventId))`, written from a template: the load generator shares
 * the benchmark's cores with what it measures, so it should not spend them serialising the same constants 20,000
 * times a second (a unit test holds the two equal).
 */
export function encodeSimulatedEvent(bootId: string, seq: number, ts: string, eventId = randomUUID()): Buffer {
  const even = seq % 2 === 0;
  return Buffer.from(
    `{"bootId":"${bootId}","seq":${seq},"ts":"${ts}","eventId":"${eventId}","phase":"start","kind":"${even ? 'parking_violation' : 'pedestrian_blocking'}","ruleId":"rule-1","zoneId":"zone-1","objectClass":"car","trackId":${seq},"score":0.8,"maxScore":0.9,"box":[0.1,0.1,0.3,0.3],"startedAt":"${ts}","endedAt":null,"endReason":null,"dwellSeconds":30,"pedestriansPresent":${even ? 'null' : '2'},"evidence":null,"model":${MODEL_JSON}}`,
  );
}

export class EdgeSimulator {
  readonly devices: SimulatedDevice[] = [];
  private clients: MqttClient[] = [];
  private stopped = false;

  constructor(private readonly o: SimulatorOptions) {
    for (let i = 0; i < o.devices; i++) {
      this.devices.push({
        node: { siteId: o.siteId, nodeId: `sim-${i}` },
        bootId: randomUUID(),
        created: 0,
        outbox: new Map(),
        committedUpTo: 0,
        replayRequests: 0,
        resends: 0,
        latenciesMs: [],
      });
    }
  }

  async connect(): Promise<void> {
    this.clients = await Promise.all(
      this.devices.map(async (d) => {
        const client = await mqtt.connectAsync(this.o.url, {
          clientId: `vigil-sim-${d.node.siteId}-${d.node.nodeId}`,
          protocolVersion: this.o.protocolVersion ?? 4,
          clean: true,
          reconnectPeriod: 500,
        });
        client.on('message', (topic, payload) => this.onCentreMessage(d, client, topic, payload));
        await client.subscribeAsync(subscriptions.centreToNode(d.node), { qos: 1 });
        return client;
      }),
    );
  }

  /** Produces every device's messages at the configured rate; resolves when all were created (not yet acked). */
  async run(): Promise<void> {
    await Promise.all(this.devices.map((d, i) => this.produce(d, i, this.clients[i])));
  }

  private async produce(d: SimulatedDevice, index: number, client: MqttClient): Promise<void> {
    if ((this.o.batchEntries ?? 1) > 1) return this.produceBatched(d, index, client);
    const inflight = this.o.inflight ?? 100;
    const interval = this.o.ratePerDevice > 0 ? 1000 / this.o.ratePerDevice : 0;
    const start = Date.now();
    const pending = new Set<Promise<unknown>>();
    const topic = topics.edgeCamera('event', { ...d.node, cameraId: 'cam-1' });
    while (d.created < this.o.messagesPerDevice && !this.stopped) {
      const seq = ++d.created;
      // Valid by construction (a unit test checks it against the contract): skip re-validating every message, so
      // the load generator leaves the CPU to what a benchmark measures.
      const payload = encodeSimulatedEvent(d.bootId, seq, new Date().toISOString());
      const now = Date.now();
      d.outbox.set(seq, { topic, payload, firstSentAt: now, lastSentAt: now });
      if (!this.o.skipFirstSend?.(index, seq)) {
        const p = client.publishAsync(topic, payload, { qos: 1 }).catch(() => undefined);
        pending.add(p);
        void p.finally(() => pending.delete(p));
        if (pending.size >= inflight) await Promise.race(pending);
      }
      if (interval > 0) {
        const due = start + seq * interval;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await Promise.all(pending);
  }

  private async produceBatched(d: SimulatedDevice, index: number, client: MqttClient): Promise<void> {
    const inflight = this.o.inflight ?? 100;
    const perBatch = this.o.batchEntries ?? 1;
    const tickMs = this.o.batchTickMs ?? 10;
    const start = Date.now();
    const pending = new Set<Promise<unknown>>();
    const topic = topics.edgeCamera('event', { ...d.node, cameraId: 'cam-1' });
    const batchTopic = topics.edgeNode('batch', d.node);
    const suffix = topic.slice(topics.edgeNodePrefix(d.node).length);
    while (d.created < this.o.messagesPerDevice && !this.stopped) {
      const due =
        this.o.ratePerDevice > 0
          ? Math.min(this.o.messagesPerDevice, Math.floor(((Date.now() - start) * this.o.ratePerDevice) / 1000) + 1)
          : Math.min(this.o.messagesPerDevice, d.created + perBatch);
      let chunk: { suffix: string; payload: Buffer }[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        const p = client.publishAsync(batchTopic, encodeBatch(chunk), { qos: 1 }).catch(() => undefined);
        chunk = [];
        pending.add(p);
        void p.finally(() => pending.delete(p));
        if (pending.size >= inflight) await Promise.race(pending);
      };
      // The events that came due in one tick are created together, as an edge's messages of one frame are.
      const now = Date.now();
      const ts = new Date(now).toISOString();
      while (d.created < due) {
        const seq = ++d.created;
        const payload = encodeSimulatedEvent(d.bootId, seq, ts);
        d.outbox.set(seq, { topic, payload, firstSentAt: now, lastSentAt: now });
        if (this.o.skipFirstSend?.(index, seq)) continue;
        chunk.push({ suffix, payload });
        if (chunk.length >= perBatch) await flush();
      }
      await flush();
      if (this.o.ratePerDevice > 0) await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(pending);
  }

  private onCentreMessage(d: SimulatedDevice, client: MqttClient, topic: string, payload: Buffer): void {
    const r = parseMessage(topic, payload);
    if (!r.ok) return;
    if (r.kind === 'commit' && r.message.bootId === d.bootId) {
      const now = Date.now();
      for (let s = d.committedUpTo + 1; s <= r.message.upToSeq; s++) {
        const e = d.outbox.get(s);
        if (e) {
          d.latenciesMs.push(now - e.firstSentAt);
          d.outbox.delete(s);
        }
      }
      d.committedUpTo = Math.max(d.committedUpTo, r.message.upToSeq);
    } else if (r.kind === 'replay' && r.message.bootId === d.bootId) {
      d.replayRequests++;
      for (const range of r.message.ranges) {
        for (let s = range.from; s <= range.to; s++) this.resend(d, client, s);
      }
    }
  }

  private resend(d: SimulatedDevice, client: MqttClient, seq: number): void {
    const e = d.outbox.get(seq);
    if (!e || this.stopped) return;
    e.lastSentAt = Date.now();
    d.resends++;
    client.publish(e.topic, e.payload, { qos: 1 });
  }

  /** Resends whatever stays unacknowledged (the edge outbox's timer), until every outbox is empty or the deadline. */
  async waitUntilAllCommitted(timeoutMs: number): Promise<boolean> {
    const resendAfter = this.o.resendAfterMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.devices.every((d) => d.outbox.size === 0)) return true;
      const now = Date.now();
      this.devices.forEach((d, i) => {
        for (const [seq, e] of d.outbox) if (now - e.lastSentAt > resendAfter) this.resend(d, this.clients[i], seq);
      });
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.devices.every((d) => d.outbox.size === 0);
  }

  totals(): { created: number; unacked: number; replayRequests: number; resends: number } {
    return this.devices.reduce(
      (t, d) => ({
        created: t.created + d.created,
        unacked: t.unacked + d.outbox.size,
        replayRequests: t.replayRequests + d.replayRequests,
        resends: t.resends + d.resends,
      }),
      { created: 0, unacked: 0, replayRequests: 0, resends: 0 },
    );
  }

  latencies(): number[] {
    return this.devices.flatMap((d) => d.latenciesMs).sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
