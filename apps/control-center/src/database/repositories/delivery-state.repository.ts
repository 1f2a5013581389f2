import type { PoolClient } from 'pg';
import type { SeqRange } from '@vigil/contracts';
import type { Database, Queryable } from '../database.types';
import { ColumnBatch } from './unnest';

export interface StreamRef {
  siteId: string;
  nodeId: string;
  bootId: string;
}

/** Delivery progress of one (node, boot) stream; the same shape as the ingest's sequence state. */
export interface DeliveryState {
  /** Every seq <= committedUpTo is stored (0: nothing yet). */
  committedUpTo: number;
  /** Stored seqs above committedUpTo, ascending. */
  pending: number[];
  /** Ranges above committedUpTo the edge announced as lost (closed without a message), ascending. */
  lost: SeqRange[];
  /** When the oldest hole was first seen (ms since the epoch), null when there is none. */
  holeSince: number | null;
  /**
   * Seqs of this stream closed as rejected (their message refused and dead-lettered), counted once each; a writer
   * that leaves it out keeps the stored count.
   */
  rejected?: number;
}

export interface DeliveryStateRow extends StreamRef, DeliveryState {}

/** Map key of a stream. */
export function deliveryKey(ref: StreamRef): string {
  return `${ref.siteId}/${ref.nodeId}/${ref.bootId}`;
}

interface DbRow {
  site_id: string;
  node_id: string;
  boot_id: string;
  committed_up_to: string;
  pending: string[];
  /** Lost ranges flattened: [from1, to1, from2, to2, ...]. */
  lost: string[];
  hole_since: Date | null;
  rejected: string;
}

function toRow(r: DbRow): DeliveryStateRow {
  return {
    siteId: r.site_id,
    nodeId: r.node_id,
    bootId: r.boot_id,
    committedUpTo: Number(r.committed_up_to),
    pending: r.pending.map(Number),
    lost: pairs(r.lost.map(Number)),
    holeSince: r.hole_since ? r.hole_since.getTime() : null,
    rejected: Number(r.rejected),
  };
}

function pairs(flat: number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ from: flat[i], to: flat[i + 1] });
  return out;
}

const KEY_COLUMNS = [
  { name: 'site_id', type: 'text' },
  { name: 'node_id', type: 'text' },
  { name: 'boot_id', type: 'uuid' },
];

/** Per-(node, boot) delivery progress, so commit acknowledgements and gap detection survive a restart. */
export class DeliveryStateRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  /** Every stream's state, keyed by `deliveryKey`. */
  async load(q: Queryable = this.db.pool): Promise<Map<string, DeliveryStateRow>> {
    const { rows } = await q.query<DbRow>(
      'SELECT site_id, node_id, boot_id, committed_up_to, pending, lost, hole_since, rejected FROM delivery_state',
    );
    return new Map(
      rows.map((r) => [deliveryKey({ siteId: r.site_id, nodeId: r.node_id, bootId: r.boot_id }), toRow(r)]),
    );
  }

  /**
   * Inside the caller's transaction: creates the streams that are new and locks every one of them until commit,
   * so centre instances that share a subscription (each seeing part of a stream) merge their seqs one at a time.
   * Rows are locked in key order (ORDER BY ... FOR UPDATE), so two batches touching the same streams cannot deadlock.
   */
  async lock(client: PoolClient, refs: readonly StreamRef[]): Promise<Map<string, DeliveryStateRow>> {
    // In key order for the INSERT too: two batches creating the same new streams in different orders would
    // otherwise wait on each other's uncommitted rows (a deadlock PostgreSQL breaks by failing one of them).
    const unique = [...new Map(refs.map((r) => [deliveryKey(r), r])).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => r);
    if (unique.length === 0) return new Map();
    const keys = new ColumnBatch(KEY_COLUMNS);
    for (const r of unique) keys.push(r.siteId, r.nodeId, r.bootId);
    await client.query(
      `INSERT INTO delivery_state (site_id, node_id, boot_id) ${keys.select('k')} ON CONFLICT DO NOTHING`,
      keys.params,
    );
    const { rows } = await client.query<DbRow>(
      `SELECT d.site_id, d.node_id, d.boot_id, d.committed_up_to, d.pending, d.lost, d.hole_since, d.rejected
         FROM delivery_state d
         JOIN (${keys.select('k')}) AS k USING (site_id, node_id, boot_id)
        ORDER BY d.site_id, d.node_id, d.boot_id
        FOR UPDATE OF d`,
      keys.params,
    );
    return new Map(
      rows.map((r) => [deliveryKey({ siteId: r.site_id, nodeId: r.node_id, bootId: r.boot_id }), toRow(r)]),
    );
  }

  /** Writes states; a state behind the stored one (a stale writer) is ignored. Pass a client to join its transaction. */
  async upsert(rows: readonly DeliveryStateRow[], q: Queryable = this.db.pool): Promise<void> {
    if (rows.length === 0) return;
    // One statement cannot update a row twice: the last state given for a stream wins.
    const last = [...new Map(rows.map((r) => [deliveryKey(r), r])).values()];
    const batch = new ColumnBatch([
      ...KEY_COLUMNS,
      { name: 'committed_up_to', type: 'int8' },
      { name: 'pending', type: 'text', castTo: 'bigint[]' },
      { name: 'lost', type: 'text', castTo: 'bigint[]' },
      { name: 'hole_since', type: 'timestamptz' },
      { name: 'rejected', type: 'int8' },
    ]);
    for (const r of last) {
      batch.push(
        r.siteId,
        r.nodeId,
        r.bootId,
        r.committedUpTo,
        `{${r.pending.join(',')}}`,
        `{${r.lost.flatMap((x) => [x.from, x.to]).join(',')}}`,
        r.holeSince === null ? null : new Date(r.holeSince).toISOString(),
        r.rejected ?? 0,
      );
    }
    await q.query(
      `INSERT INTO delivery_state (${batch.names}) ${batch.select('u')}
       ON CONFLICT (site_id, node_id, boot_id) DO UPDATE SET
         committed_up_to = EXCLUDED.committed_up_to, pending = EXCLUDED.pending, lost = EXCLUDED.lost,
         hole_since = EXCLUDED.hole_since,
         rejected = GREATEST(EXCLUDED.rejected, delivery_state.rejected),
         updated_at = now()
       WHERE EXCLUDED.committed_up_to >= delivery_state.committed_up_to`,
      batch.params,
    );
  }
}
