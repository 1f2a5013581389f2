import type { ViolationExportRow } from '@vigil/contracts';
import type { Database, Queryable } from '../database/database.types';

export interface ViolationExportFilter {
  /** Null: every site. */
  siteIds: readonly string[] | null;
  from?: Date;
  to?: Date;
  /** Keyset: alert ids greater than this. */
  after: string;
  limit: number;
}

interface Row {
  alert_id: string;
  site_id: string;
  node_id: string;
  camera_id: string | null;
  source: string;
  opened_at: Date;
  cleared_at: Date | null;
  state: ViolationExportRow['state'];
  confirmed_by: string;
  confirmed_at: Date;
  evidence_id: string | null;
  evidence_sha256: string | null;
  model_id: string | null;
  model: { sha256?: string; scoreThreshold?: number } | null;
}

/**
 * Confirmed parking violations with their proof, paged by alert id (the export streams page after page). The
 * evidence and the model come from the violation's stored detection events: the first message that carried
 * evidence, and the first message's model.
 */
export class ViolationExportRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  async page(f: ViolationExportFilter, q: Queryable = this.db.pool): Promise<ViolationExportRow[]> {
    const { rows } = await q.query<Row>(
      `SELECT a.id::text AS alert_id, a.site_id, a.node_id, a.camera_id, a.source, a.opened_at, a.cleared_at,
              a.state, a.confirmed_by, a.confirmed_at,
              ev.evidence_id::text AS evidence_id, ev.evidence_sha256, m.model_id, m.model
         FROM alerts a
         LEFT JOIN LATERAL (
           SELECT d.evidence_id, d.evidence_sha256 FROM detection_events d
            WHERE d.event_id = a.source::uuid AND d.site_id = a.site_id AND d.evidence_id IS NOT NULL
            ORDER BY d.ts, d.seq LIMIT 1) ev ON true
         LEFT JOIN LATERAL (
           SELECT d.model_id, d.model FROM detection_events d
            WHERE d.event_id = a.source::uuid AND d.site_id = a.site_id
            ORDER BY d.ts, d.seq LIMIT 1) m ON true
        WHERE a.kind = 'parking_violation' AND a.confirmed_by IS NOT NULL
          AND ($1::text[] IS NULL OR a.site_id = ANY($1))
          AND ($2::timestamptz IS NULL OR a.opened_at >= $2)
          AND ($3::timestamptz IS NULL OR a.opened_at < $3)
          AND a.id > $4::bigint
        ORDER BY a.id
        LIMIT $5`,
      [f.siteIds, f.from ?? null, f.to ?? null, f.after, f.limit],
    );
    return rows.map((r) => ({
      alertId: r.alert_id,
      siteId: r.site_id,
      nodeId: r.node_id,
      cameraId: r.camera_id,
      eventId: r.source,
      openedAt: r.opened_at.toISOString(),
      clearedAt: r.cleared_at?.toISOString() ?? null,
      state: r.state,
      confirmedBy: r.confirmed_by,
      confirmedAt: r.confirmed_at.toISOString(),
      evidenceId: r.evidence_id,
      evidenceSha256: r.evidence_sha256,
      modelId: r.model_id,
      modelSha256: r.model?.sha256 ?? null,
      modelScoreThreshold: r.model?.scoreThreshold ?? null,
    }));
  }
}
