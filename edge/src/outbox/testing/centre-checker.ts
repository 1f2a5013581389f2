import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, parseMessages, parseTopic, topics, type NodeRef, type ParseResult } from '@vigil/contracts';
import { tagOf } from './outbox-messages';

interface BootStream {
  node: NodeRef;
  /** seq -> tag of the message (the number it carries; -1 for node status). */
  seqs: Map<number, number>;
  /** Seqs the edge announced as lost (delivery_gap): closed without a message. */
  lost: Set<number>;
  committedUpTo: number;
  holeSince: number | null;
  duplicates: number;
}

/**
 * Plays the centre for delivery tests: a persistent-session subscriber (stable client id, clean start off) that
 * records every (bootId, seq), "commits" them (in memory), acknowledges the contiguous prefix per boot on the
 * contract's commit topic, and asks for a replay when a hole stays open. Duplicates are counted, not stored twice,
 * as an idempotent ingest would. Seqs the edge announces as lost (`delivery_gap`) are closed like the real ingest
 * closes them.
 */
export class CentreChecker {
  readonly boots = new Map<string, BootStream>();
  readonly invalid: string[] = [];
  /** The same (bootId, seq) seen with different content: must never happen. */
  readonly mismatches: string[] = [];
  wills = 0;
  replayRequests = 0;
  gapAnnouncements = 0;
  /** `batch` messages received (their entries are recorded one by one). */
  batches = 0;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private acking = true;
  private ticking = false;

  constructor(
    private readonly url: string,
    private readonly siteId: string,
    private readonly options: {
      gapGraceMs?: number;
      ackEveryMs?: number;
      /** Messages to throw away as if this centre had missed them (every copy, replays included). */
      drop?: (bootId: string, seq: number) => boolean;
    } = {},
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
    if (parseTopic(topic)?.kind === 'batch') this.batches++;
    for (const r of parseMessages(topic, payload)) this.recordParsed(topic, r);
  }

  private recordParsed(topic: string, r: ParseResult): void {
    if (!r.ok) {
      this.invalid.push(`${topic}: ${r.error.reason}`);
      return;
    }
    if (r.topic.root !== 'edge') return;
    if (r.kind === 'delivery_gap') {
      this.gapAnnouncements++;
      for (const l of r.message.lost) {
        const stream = this.streamOf(l.bootId, r.topic);
        // A seq already received was delivered after all (the edge evicts what it has not seen acknowledged).
        for (const range of l.ranges) {
          for (let seq = range.from; seq <= range.to; seq++) if (!stream.seqs.has(seq)) stream.lost.add(seq);
        }
      }
      return;
    }
    const envelope = r.kind === 'evidence_jpeg' ? r.message.header : (r.message as { bootId: string; seq?: number });
    if (envelope.seq === undefined) {
      this.wills++;
      return;
    }
    if (this.options.drop?.(envelope.bootId, envelope.seq)) return;
    const tag = r.kind === 'evidence_jpeg' ? -2 : (tagOf(r.message) ?? -1);
    const stream = this.streamOf(envelope.bootId, r.topic);
    const seen = stream.seqs.get(envelope.seq);
    if (seen === undefined) stream.seqs.set(envelope.seq, tag);
    else {
      stream.duplicates++;
      if (seen !== tag) this.mismatches.push(`${envelope.bootId}/${envelope.seq}: ${seen} then ${tag}`);
    }
  }

  private streamOf(bootId: string, node: NodeRef): BootStream {
    let stream = this.boots.get(bootId);
    if (!stream) {
      stream = {
        node: { siteId: node.siteId, nodeId: node.nodeId },
        seqs: new Map(),
        lost: new Set(),
        committedUpTo: 0,
        holeSince: null,
        duplicates: 0,
      };
      this.boots.set(bootId, stream);
    }
    return stream;
  }

  private async tick(): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const now = Date.now();
    for (const [bootId, s] of this.boots) {
      const closed = (seq: number) => s.seqs.has(seq) || s.lost.has(seq);
      while (closed(s.committedUpTo + 1)) s.committedUpTo++;
      const max = Math.max(0, ...s.seqs.keys(), ...s.lost);
      if (max > s.committedUpTo) s.holeSince ??= now;
      else s.holeSince = null;
      if (!this.acking) continue;
      const ts = new Date(now).toISOString();
      const commit = encodeMessage('commit', { bootId, upToSeq: s.committedUpTo, ts });
      await client.publishAsync(topics.centre('commit', s.node), commit, { qos: 1 }).catch(() => undefined);
      if (s.holeSince !== null && now - s.holeSince >= (this.options.gapGraceMs ?? 1000)) {
        const ranges: { from: number; to: number }[] = [];
        for (let seq = s.committedUpTo + 1; seq < max && ranges.length < 100; seq++) {
          if (closed(seq)) continue;
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

  /** Seqs of the boot the edge announced as lost, ascending. */
  lostOf(bootId: string): number[] {
    return [...(this.boots.get(bootId)?.lost ?? [])].sort((a, b) => a - b);
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
