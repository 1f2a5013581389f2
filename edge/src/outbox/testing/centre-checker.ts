import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, parseMessage, topics, type NodeRef } from '@vigil/contracts';
import { tagOf } from './outbox-messages';

interface BootStream {
  node: NodeRef;
  /** seq -> tag of the message (the number it carries; -1 for node status). */
  seqs: Map<number, number>;
  committedUpTo: number;
  holeSince: number | null;
  duplicates: number;
}

/**
 * Plays the centre for delivery tests: a persistent-session subscriber (stable client id, clean start off) that
 * records every (bootId, seq), "commits" them (in memory), acknowledges the contiguous prefix per boot on the
 * contract's commit topic, and asks for a replay when a hole stays open. Duplicates are counted, not stored twice,
 * as an idempotent ingest would.
 */
export class CentreChecker {
  readonly boots = new Map<string, BootStream>();
  readonly invalid: string[] = [];
  /** The same (bootId, seq) seen with different content: must never happen. */
  readonly mismatches: string[] = [];
  wills = 0;
  replayRequests = 0;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private acking = true;
  private ticking = false;

  constructor(
    private readonly url: string,
    private readonly siteId: string,
    private readonly options: { gapGraceMs?: number; ackEveryMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    const filter = `vigil/v1/edge/${this.siteId}/#`;
    const client = mqtt.connect(this.url, {
      clientId: `checker-${this.siteId}`,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 300,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.record(topic, payload));
    client.on('connect', () => client.subscribe(filter, { qos: 1 }));
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync(filter, { qos: 1 });
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      void this.tick().finally(() => (this.ticking = false));
    }, this.options.ackEveryMs ?? 200);
  }

  /** Stops acknowledging (the centre is slow): the edge keeps everything. */
  pauseAcks(): void {
    this.acking = false;
  }

  resumeAcks(): void {
    this.acking = true;
  }

  private record(topic: string, payload: Buffer): void {
    const r = parseMessage(topic, payload);
    if (!r.ok) {
      this.invalid.push(`${topic}: ${r.error.reason}`);
      return;
    }
    if (r.topic.root !== 'edge') return;
    const envelope = r.kind === 'evidence_jpeg' ? r.message.header : (r.message as { bootId: string; seq?: number });
    if (envelope.seq === undefined) {
      this.wills++;
      return;
    }
    const tag = r.kind === 'evidence_jpeg' ? -2 : (tagOf(r.message) ?? -1);
    let stream = this.boots.get(envelope.bootId);
    if (!stream) {
      stream = {
        node: { siteId: r.topic.siteId, nodeId: r.topic.nodeId },
        seqs: new Map(),
        committedUpTo: 0,
        holeSince: null,
        duplicates: 0,
      };
      this.boots.set(envelope.bootId, stream);
    }
    const seen = stream.seqs.get(envelope.seq);
    if (seen === undefined) stream.seqs.set(envelope.seq, tag);
    else {
      stream.duplicates++;
      if (seen !== tag) this.mismatches.push(`${envelope.bootId}/${envelope.seq}: ${seen} then ${tag}`);
    }
  }

  private async tick(): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const now = Date.now();
    for (const [bootId, s] of this.boots) {
      while (s.seqs.has(s.committedUpTo + 1)) s.committedUpTo++;
      const max = Math.max(...s.seqs.keys());
      if (max > s.committedUpTo) s.holeSince ??= now;
      else s.holeSince = null;
      if (!this.acking) continue;
      const ts = new Date(now).toISOString();
      const commit = encodeMessage('commit', { bootId, upToSeq: s.committedUpTo, ts });
      await client.publishAsync(topics.centre('commit', s.node), commit, { qos: 1 }).catch(() => undefined);
      if (s.holeSince !== null && now - s.holeSince >= (this.options.gapGraceMs ?? 1000)) {
        const ranges: { from: number; to: number }[] = [];
        for (let seq = s.committedUpTo + 1; seq < max && ranges.length < 100; seq++) {
          if (s.seqs.has(seq)) continue;
          const last = ranges.at(-1);
          if (last && last.to === seq - 1) last.to = seq;
          else ranges.push({ from: seq, to: seq });
        }
        s.holeSince = now;
        this.replayRequests++;
        const replay = encodeMessage('replay', { requestId: randomUUID(), bootId, ranges, ts });
        await client.publishAsync(topics.centre('replay', s.node), replay, { qos: 1 }).catch(() => undefined);
      }
    }
  }

  /** Every seq of the boot, ascending. */
  seqsOf(bootId: string): number[] {
    return [...(this.boots.get(bootId)?.seqs.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Tags received across all boots: tag -> how many distinct (bootId, seq) carried it. */
  tagIdentities(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.boots.values()) for (const tag of s.seqs.values()) out.set(tag, (out.get(tag) ?? 0) + 1);
    return out;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(true);
  }
}
