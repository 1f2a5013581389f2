import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { MAX_LOST_BOOTS, MAX_LOST_RANGES, type DeliveryGap, type Heartbeat, type NodeRef } from '@vigil/contracts';
import { finalPayload, prepareEntry, type PreparedEntry } from './outbox-payload';
import {
  EVICTION_CLASS,
  noopOutboxLogger,
  OUTBOX_KINDS,
  type EnqueueResult,
  type EvictionReason,
  type EvictionReport,
  type OutboxItem,
  type OutboxKind,
  type OutboxLogger,
  type OutboxStats,
  type PublishableEntry,
} from './outbox.types';

export const OUTBOX_FILE = 'outbox.sqlite';
/** 1: entries, evictions. 2: lost (published entries evicted before their commit). */
const SCHEMA_VERSION = 2;
const CLASSES = Math.max(...Object.values(EVICTION_CLASS)) + 1;

export interface OutboxOptions {
  /** Directory of the store (created if missing). One edge process per directory: a second opener fails. */
  dir: string;
  node: NodeRef;
  /** Bound on stored bytes (topic + payload of every entry). Default 256 MiB. */
  maxBytes?: number;
  /** Bound on entry age. Default 7 days. */
  maxAgeS?: number;
  /** Per-kind age bounds under maxAgeS. Default: evidence images 72 h (EDPB 3/2019 retention for images). */
  maxAgeByKindS?: Partial<Record<OutboxKind, number>>;
  /**
   * SQLite `synchronous` in WAL mode. FULL (default) fsyncs the WAL on every commit, so an entry survives a power
   * cut; NORMAL survives a process crash but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Boot id of this process start; a fresh UUID unless given (tests). */
  bootId?: string;
  now?: () => number;
  logger?: OutboxLogger;
}

interface EntryRow {
  id: number;
  kind: OutboxKind;
  topic: string;
  retain: number;
  body: Buffer;
  image: Buffer | null;
  boot_id: string | null;
  seq: number | null;
}

interface RemovedRow {
  id: number;
  kind: OutboxKind;
  bytes: number;
  boot_id: string | null;
  seq: number | null;
}

interface LostRow {
  boot_id: string;
  from_seq: number;
  to_seq: number;
  recorded_at: number;
}

/** Published seqs the outbox evicted before the centre committed them, by boot, as inclusive ranges. */
export type LostSeqs = DeliveryGap['lost'];

const zeroCounts = (): Record<OutboxKind, number> =>
  Object.fromEntries(OUTBOX_KINDS.map((k) => [k, 0])) as Record<OutboxKind, number>;

/**
 * The edge's durable outbox (SQLite, WAL). Every sequenced message is stored here before it is published and stays
 * until the centre's commit acknowledgement covers it; a broker PUBACK deletes nothing.
 *
 * Identity: an entry gets `(bootId, seq)` when it is first handed to the publisher (in a committed transaction,
 * before the publish), `seq` counting from 1 per boot across every topic of the node. Assigning at hand-over rather
 * than at enqueue means that what is evicted while the link is down never had a sequence number, so bounded
 * eviction never leaves a hole the centre would wait on forever. Once assigned, an identity never changes: entries
 * of earlier boots are re-published with their original `(bootId, seq)`.
 *
 * Bounds: bytes and age, evicting by class (see EVICTION_CLASS) and counting every eviction by kind, persistently.
 */
export class Outbox {
  readonly bootId: string;
  readonly file: string;
  private readonly db: Db;
  readonly node: NodeRef;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly maxAgeByKindMs: Partial<Record<OutboxKind, number>>;
  private readonly now: () => number;
  private readonly logger: OutboxLogger;
  private nextSeq = 1;
  private depthCount = 0;
  private totalBytes = 0;
  private readonly classBytes = new Array<number>(CLASSES).fill(0);
  private readonly evictedSinceBoot = zeroCounts();
  private lastAgeCheck = 0;
  private closed = false;
  private readonly enqueuedListeners = new Set<() => void>();
  private readonly removedListeners = new Set<(ids: number[]) => void>();
  private readonly lostListeners = new Set<() => void>();
  private lostSinceBoot = 0;
  private lostOutstanding: number;
  private readonly st: {
    insert: Statement<[string, number, string, number, Buffer, Buffer | null, number, number]>;
    evictCandidates: Statement<[number, number, number], RemovedRow>;
    deleteById: Statement<[number]>;
    countEviction: Statement<[string, number]>;
    ack: Statement<[string, number], RemovedRow>;
    nextRows: Statement<[number, number], EntryRow>;
    assign: Statement<[string, number, number]>;
    byIds: Statement<[string], EntryRow>;
    range: Statement<[string, number, number, number], EntryRow>;
    oldest: Statement<[], { t: number | null }>;
    ageEvict: Statement<[number], RemovedRow>;
    ageEvictKind: Statement<[string, number], RemovedRow>;
    evictionTotals: Statement<[], { kind: string; count: number }>;
    lostTouching: Statement<[string, number, number], LostRow>;
    lostDelete: Statement<[string, number]>;
    lostInsert: Statement<[string, number, number, number]>;
    lostForget: Statement<[string, number]>;
    lostTrim: Statement<[number, string, number, number]>;
    lostFirst: Statement<[number], LostRow>;
    lostWithin: Statement<[string, number, number], LostRow>;
    lostCount: Statement<[], { n: number }>;
  };

  private constructor(options: OutboxOptions) {
    this.node = options.node;
    this.bootId = options.bootId ?? randomUUID();
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxAgeMs = (options.maxAgeS ?? 7 * 86_400) * 1000;
    const byKind = options.maxAgeByKindS ?? { evidence_jpeg: 72 * 3600 };
    this.maxAgeByKindMs = Object.fromEntries(
      Object.entries(byKind).map(([k, s]) => [k, Math.min(this.maxAgeMs, (s ?? Infinity) * 1000)]),
    );
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? noopOutboxLogger;
    mkdirSync(options.dir, { recursive: true });
    this.file = path.join(options.dir, OUTBOX_FILE);
    this.db = openDatabase(this.file, options.synchronous ?? 'FULL');
    this.st = {
      insert: this.db.prepare(
        'INSERT INTO entries (kind, class, topic, retain, body, image, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // Within a class: entries never handed to the broker first (dropping them leaves no sequence hole), then
      // the already sequenced ones; oldest first in both.
      evictCandidates: this.db.prepare(
        'SELECT id, kind, bytes, boot_id, seq FROM entries WHERE class = ? AND (seq IS NOT NULL) = ? ORDER BY id LIMIT ?',
      ),
      deleteById: this.db.prepare('DELETE FROM entries WHERE id = ?'),
      countEviction: this.db.prepare(
        'INSERT INTO evictions (kind, count) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count',
      ),
      ack: this.db.prepare(
        'DELETE FROM entries WHERE boot_id = ? AND seq <= ? RETURNING id, kind, bytes, boot_id, seq',
      ),
      nextRows: this.db.prepare(
        'SELECT id, kind, topic, retain, body, image, boot_id, seq FROM entries WHERE id > ? ORDER BY id LIMIT ?',
      ),
      assign: this.db.prepare('UPDATE entries SET boot_id = ?, seq = ? WHERE id = ?'),
      byIds: this.db.prepare(
        'SELECT id, kind, topic, retain, body, image, boot_id, seq FROM entries WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id',
      ),
      range: this.db.prepare(
        'SELECT id, kind, topic, retain, body, image, boot_id, seq FROM entries WHERE boot_id = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT ?',
      ),
      oldest: this.db.prepare('SELECT min(created_at) AS t FROM entries'),
      ageEvict: this.db.prepare('DELETE FROM entries WHERE created_at < ? RETURNING id, kind, bytes, boot_id, seq'),
      ageEvictKind: this.db.prepare(
        'DELETE FROM entries WHERE kind = ? AND created_at < ? RETURNING id, kind, bytes, boot_id, seq',
      ),
      evictionTotals: this.db.prepare('SELECT kind, count FROM evictions'),
      // Ranges of a boot that overlap or touch [from, to] (merged with it on insert).
      lostTouching: this.db.prepare(
        'SELECT boot_id, from_seq, to_seq, recorded_at FROM lost WHERE boot_id = ? AND to_seq >= ? - 1 AND from_seq <= ? + 1',
      ),
      lostDelete: this.db.prepare('DELETE FROM lost WHERE boot_id = ? AND from_seq = ?'),
      lostInsert: this.db.prepare('INSERT INTO lost (boot_id, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?)'),
      lostForget: this.db.prepare('DELETE FROM lost WHERE boot_id = ? AND to_seq <= ?'),
      lostTrim: this.db.prepare('UPDATE lost SET from_seq = ? WHERE boot_id = ? AND from_seq <= ? AND to_seq > ?'),
      // Oldest boot first (by its first recorded loss), lowest seqs first: the centre closes from the bottom.
      lostFirst: this.db.prepare(
        `SELECT l.boot_id, l.from_seq, l.to_seq, l.recorded_at
           FROM lost l JOIN (SELECT boot_id, min(recorded_at) AS first FROM lost GROUP BY boot_id) b USING (boot_id)
          ORDER BY b.first, l.boot_id, l.from_seq LIMIT ?`,
      ),
      lostWithin: this.db.prepare(
        'SELECT boot_id, from_seq, to_seq, recorded_at FROM lost WHERE boot_id = ? AND to_seq >= ? AND from_seq <= ? ORDER BY from_seq',
      ),
      lostCount: this.db.prepare('SELECT coalesce(sum(to_seq - from_seq + 1), 0) AS n FROM lost'),
    };
    this.lostOutstanding = this.st.lostCount.get()?.n ?? 0;
    const totals = this.db
      .prepare('SELECT class, count(*) AS n, coalesce(sum(bytes), 0) AS b FROM entries GROUP BY class')
      .all() as { class: number; n: number; b: number }[];
    for (const t of totals) {
      this.classBytes[t.class] = t.b;
      this.depthCount += t.n;
      this.totalBytes += t.b;
    }
  }

  /** Opens (or creates) the outbox in `options.dir` for a new boot. */
  static open(options: OutboxOptions): Outbox {
    return new Outbox(options);
  }

  get depth(): number {
    return this.depthCount;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Stores one message durably (committed before this returns). */
  enqueue(item: OutboxItem): EnqueueResult {
    return this.enqueueMany([item])[0];
  }

  /**
   * Stores several messages in one transaction (one fsync): what one frame produces goes in together, and either
   * all of it is durable or none. Validation happens first, so a malformed message stores nothing.
   */
  enqueueMany(items: readonly OutboxItem[]): EnqueueResult[] {
    this.assertOpen();
    const now = this.now();
    const prepared = items.map((item) => prepareEntry(item, this.node, this.bootId, now));
    const evicted: RemovedRow[] = [];
    let aged: RemovedRow[] = [];
    let lost = 0;
    const results = this.db.transaction(() => {
      if (now - this.lastAgeCheck >= 1000) {
        this.lastAgeCheck = now;
        aged = this.evictByAge(now);
      }
      const stored = prepared.map((p) => this.insertBounded(p, evicted));
      lost = this.recordLost([...aged, ...evicted], now);
      return stored;
    })();
    this.afterEviction(aged, 'age');
    this.afterEviction(evicted, 'bytes');
    this.afterLost(lost);
    if (results.some((r) => r.stored)) for (const l of this.enqueuedListeners) l();
    return results;
  }

  private insertBounded(p: PreparedEntry, evicted: RemovedRow[]): EnqueueResult {
    const cls = EVICTION_CLASS[p.kind];
    const excess = this.totalBytes + p.bytes - this.maxBytes;
    if (excess > 0) {
      // Everything of a lower class and every older entry of the same class goes before this one.
      let evictable = 0;
      for (let c = 0; c <= cls; c++) evictable += this.classBytes[c];
      if (p.bytes > this.maxBytes || evictable < excess) {
        evicted.push({ id: -1, kind: p.kind, bytes: 0, boot_id: null, seq: null });
        this.st.countEviction.run(p.kind, 1);
        return { id: null, kind: p.kind, stored: false };
      }
      this.evictBytes(excess, cls, evicted);
    }
    const info = this.st.insert.run(p.kind, cls, p.topic, p.retain ? 1 : 0, p.body, p.image, p.bytes, p.createdAt);
    this.depthCount++;
    this.totalBytes += p.bytes;
    this.classBytes[cls] += p.bytes;
    return { id: Number(info.lastInsertRowid), kind: p.kind, stored: true };
  }

  private evictBytes(excess: number, upToClass: number, evicted: RemovedRow[]): void {
    let freed = 0;
    for (let c = 0; c <= upToClass && freed < excess; c++) {
      for (const sequenced of [0, 1]) {
        while (freed < excess) {
          const rows = this.st.evictCandidates.all(c, sequenced, 64);
          if (rows.length === 0) break;
          for (const r of rows) {
            if (freed >= excess) break;
            this.st.deleteById.run(r.id);
            this.st.countEviction.run(r.kind, 1);
            this.forget(r);
            freed += r.bytes;
            evicted.push(r);
          }
        }
      }
    }
  }

  private evictByAge(now: number): RemovedRow[] {
    const rows = this.st.ageEvict.all(now - this.maxAgeMs);
    for (const [kind, ms] of Object.entries(this.maxAgeByKindMs)) {
      rows.push(...this.st.ageEvictKind.all(kind, now - ms));
    }
    for (const r of rows) {
      this.st.countEviction.run(r.kind, 1);
      this.forget(r);
    }
    return rows;
  }

  /** Applies the age bound now (the publisher calls it periodically; enqueue does it at most once a second). */
  enforceAge(): number {
    this.assertOpen();
    const now = this.now();
    this.lastAgeCheck = now;
    let lost = 0;
    const rows = this.db.transaction(() => {
      const aged = this.evictByAge(now);
      lost = this.recordLost(aged, now);
      return aged;
    })();
    this.afterEviction(rows, 'age');
    this.afterLost(lost);
    return rows.length;
  }

  /**
   * Inside the eviction's transaction: the evicted entries that had been handed to the broker (they hold a seq the
   * centre may be waiting for) are recorded as lost ranges, merged with the ranges they touch. Returns how many.
   */
  private recordLost(rows: readonly RemovedRow[], now: number): number {
    const byBoot = new Map<string, number[]>();
    for (const r of rows) {
      if (r.boot_id === null || r.seq === null) continue;
      const list = byBoot.get(r.boot_id);
      if (list) list.push(r.seq);
      else byBoot.set(r.boot_id, [r.seq]);
    }
    let n = 0;
    for (const [bootId, seqs] of byBoot) {
      seqs.sort((a, b) => a - b);
      n += seqs.length;
      let from = seqs[0];
      for (let i = 1; i <= seqs.length; i++) {
        if (i < seqs.length && seqs[i] === seqs[i - 1] + 1) continue;
        this.addLost(bootId, from, seqs[i - 1], now);
        from = seqs[i];
      }
    }
    return n;
  }

  private addLost(bootId: string, from: number, to: number, now: number): void {
    let recordedAt = now;
    for (const r of this.st.lostTouching.all(bootId, from, to)) {
      from = Math.min(from, r.from_seq);
      to = Math.max(to, r.to_seq);
      recordedAt = Math.min(recordedAt, r.recorded_at);
      this.st.lostDelete.run(bootId, r.from_seq);
    }
    this.st.lostInsert.run(bootId, from, to, recordedAt);
  }

  private afterLost(n: number): void {
    if (n === 0) return;
    this.lostSinceBoot += n;
    this.lostOutstanding = this.st.lostCount.get()?.n ?? 0;
    this.logger.warn(
      { lost: n, outstanding: this.lostOutstanding },
      'published entries evicted before the centre committed them; announcing them as lost',
    );
    for (const l of this.lostListeners) l();
  }

  private forget(r: RemovedRow): void {
    const cls = EVICTION_CLASS[r.kind];
    this.depthCount--;
    this.totalBytes -= r.bytes;
    this.classBytes[cls] -= r.bytes;
  }

  private afterEviction(rows: RemovedRow[], reason: EvictionReason): void {
    if (rows.length === 0) return;
    const byKind: Partial<Record<OutboxKind, number>> = {};
    for (const r of rows) {
      this.evictedSinceBoot[r.kind]++;
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    }
    const ids = rows.filter((r) => r.id >= 0).map((r) => r.id);
    const report: EvictionReport = { reason, byKind, ids };
    this.logger.warn(
      { reason: report.reason, evicted: byKind, depth: this.depthCount, bytes: this.totalBytes },
      'outbox bound reached, entries evicted',
    );
    if (ids.length > 0) for (const l of this.removedListeners) l(ids);
  }

  /**
   * The centre's commit acknowledgement: every entry of `bootId` with `seq <= upToSeq` is in its database. Deletes
   * exactly those and returns how many.
   */
  commit(bootId: string, upToSeq: number): number {
    this.assertOpen();
    const rows = this.db.transaction(() => {
      const acked = this.st.ack.all(bootId, upToSeq);
      // The centre has closed every seq <= upToSeq (committed, or closed on our announcement): lost ranges up to
      // there need no announcement any more.
      const forgot = this.st.lostForget.run(bootId, upToSeq).changes;
      const trimmed = this.st.lostTrim.run(upToSeq + 1, bootId, upToSeq, upToSeq).changes;
      if (forgot + trimmed > 0) this.lostOutstanding = this.st.lostCount.get()?.n ?? 0;
      return acked;
    })();
    for (const r of rows) this.forget(r);
    if (rows.length > 0) {
      const ids = rows.map((r) => r.id);
      for (const l of this.removedListeners) l(ids);
    }
    return rows.length;
  }

  /**
   * The next entries after `afterId` in publish order, with their identity: entries without one get this boot's
   * next sequence numbers in a committed transaction before they are returned (so before they can be published).
   */
  takeForPublish(afterId: number, limit: number): PublishableEntry[] {
    this.assertOpen();
    return this.db.transaction(() => {
      const rows = this.st.nextRows.all(afterId, limit);
      for (const r of rows) {
        if (r.boot_id !== null) continue;
        r.boot_id = this.bootId;
        r.seq = this.nextSeq++;
        this.st.assign.run(r.boot_id, r.seq, r.id);
      }
      return rows.map(toPublishable);
    })();
  }

  /** Entries still stored among `ids` (for resends), in publish order. Only entries that have an identity. */
  getSequenced(ids: readonly number[]): PublishableEntry[] {
    this.assertOpen();
    if (ids.length === 0) return [];
    return this.st.byIds
      .all(JSON.stringify(ids))
      .filter((r) => r.seq !== null)
      .map(toPublishable);
  }

  /** Stored entries of one boot in an inclusive seq range (for a replay request), at most `limit`. */
  findRange(bootId: string, from: number, to: number, limit: number): PublishableEntry[] {
    this.assertOpen();
    return this.st.range.all(bootId, from, to, limit).map(toPublishable);
  }

  /**
   * Lost seqs still to announce (published, evicted, not yet passed by a commit ack): at most `limit` ranges and
   * MAX_LOST_BOOTS boots (what one `delivery_gap` may carry), the oldest boot's lowest first, grouped by boot.
   */
  lostRanges(limit = MAX_LOST_RANGES): LostSeqs {
    this.assertOpen();
    return groupByBoot(this.st.lostFirst.all(limit)).slice(0, MAX_LOST_BOOTS);
  }

  /** The lost ranges of one boot within [from, to] (clipped to it): how to answer a replay of evicted seqs. */
  lostWithin(bootId: string, from: number, to: number): LostSeqs {
    this.assertOpen();
    const rows = this.st.lostWithin.all(bootId, from, to).map((r) => ({
      ...r,
      from_seq: Math.max(r.from_seq, from),
      to_seq: Math.min(r.to_seq, to),
    }));
    return groupByBoot(rows);
  }

  /** Seqs recorded as lost and not yet passed by a commit ack. */
  get lostOutstandingSeqs(): number {
    return this.lostOutstanding;
  }

  /** Called after an eviction recorded new lost seqs (outside the transaction). */
  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  onEnqueued(listener: () => void): () => void {
    this.enqueuedListeners.add(listener);
    return () => this.enqueuedListeners.delete(listener);
  }

  /** Called with the ids of entries that left the store (committed or evicted). */
  onRemoved(listener: (ids: number[]) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  stats(): OutboxStats {
    this.assertOpen();
    const oldest = this.st.oldest.get()?.t ?? null;
    const evictedTotal = zeroCounts();
    for (const r of this.st.evictionTotals.all()) {
      if (r.kind in evictedTotal) evictedTotal[r.kind as OutboxKind] = r.count;
    }
    return {
      depth: this.depthCount,
      bytes: this.totalBytes,
      oldestAgeS: oldest === null ? null : Math.max(0, (this.now() - oldest) / 1000),
      evictedSinceBoot: { ...this.evictedSinceBoot },
      evictedTotal,
      lostSinceBoot: this.lostSinceBoot,
      lostOutstanding: this.lostOutstanding,
    };
  }

  /** The heartbeat's `outbox` object (evictions since boot, by kind, zeros included). */
  heartbeatStats(): Heartbeat['outbox'] {
    const s = this.stats();
    return { depth: s.depth, bytes: s.bytes, oldestAgeS: s.oldestAgeS, evicted: s.evictedSinceBoot };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('outbox is closed');
  }
}

function groupByBoot(rows: readonly Pick<LostRow, 'boot_id' | 'from_seq' | 'to_seq'>[]): LostSeqs {
  const out: LostSeqs = [];
  for (const r of rows) {
    const last = out.at(-1);
    const range = { from: r.from_seq, to: r.to_seq };
    if (last?.bootId === r.boot_id) last.ranges.push(range);
    else out.push({ bootId: r.boot_id, ranges: [range] });
  }
  return out;
}

function toPublishable(r: EntryRow): PublishableEntry {
  if (r.boot_id === null || r.seq === null) throw new Error(`outbox entry ${r.id} has no identity yet`);
  return {
    id: r.id,
    kind: r.kind,
    topic: r.topic,
    retain: r.retain === 1,
    bootId: r.boot_id,
    seq: r.seq,
    payload: finalPayload(r.kind, r.body, r.image, r.boot_id, r.seq),
  };
}

function openDatabase(file: string, synchronous: 'FULL' | 'NORMAL'): Db {
  // No busy wait: a second process on the same directory must fail at once, not share the sequence.
  const db = new Database(file, { timeout: 0 });
  try {
    // Exclusive locking before the first WAL access: no shared-memory file, and the lock is held until close
    // (the kernel drops it if the process dies), so two edge processes can never write one outbox.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('BEGIN IMMEDIATE; COMMIT');
    const version = db.pragma('user_version', { simple: true }) as number;
    // Published seqs evicted before their commit, as disjoint, non-adjacent ranges per boot: announced to the
    // centre until its commit ack passes them.
    const lostTable = `
      CREATE TABLE IF NOT EXISTS lost (
        boot_id TEXT NOT NULL,
        from_seq INTEGER NOT NULL,
        to_seq INTEGER NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (boot_id, from_seq)
      );`;
    if (version === 1) {
      db.exec(`BEGIN; ${lostTable} PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
    } else if (version === 0) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS entries (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL,
          class INTEGER NOT NULL,
          topic TEXT NOT NULL,
          retain INTEGER NOT NULL,
          body BLOB NOT NULL,
          image BLOB,
          bytes INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          boot_id TEXT,
          seq INTEGER
        );
        CREATE UNIQUE INDEX IF NOT EXISTS entries_identity ON entries (boot_id, seq);
        CREATE INDEX IF NOT EXISTS entries_eviction ON entries (class, (seq IS NOT NULL), id);
        CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at);
        CREATE TABLE IF NOT EXISTS evictions (kind TEXT PRIMARY KEY, count INTEGER NOT NULL);
        ${lostTable}
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
    } else if (version !== SCHEMA_VERSION) {
      throw new Error(`outbox ${file} has schema version ${version}, this agent knows ${SCHEMA_VERSION}`);
    }
    return db;
  } catch (err) {
    db.close();
    const e = err as Error & { code?: string };
    if (e.code === 'SQLITE_BUSY') throw new Error(`outbox ${file} is in use by another process`, { cause: err });
    throw err;
  }
}
