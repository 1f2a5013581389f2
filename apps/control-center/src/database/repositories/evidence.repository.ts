import type { Database, Queryable } from '../database.types';

export interface EvidenceImage {
  evidenceId: string;
  siteId: string;
  nodeId: string;
  cameraId: string;
  sha256: string;
  image: Buffer;
  capturedAt: Date;
  receivedAt: Date;
  keep: boolean;
}

/** Evidence images: read one, or keep it beyond its 72-hour retention for a case (and release it again). */
export class EvidenceRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  async findImage(evidenceId: string, q: Queryable = this.db.pool): Promise<EvidenceImage | null> {
    const { rows } = await q.query<{
      evidence_id: string;
      site_id: string;
      node_id: string;
      camera_id: string;
      sha256: string;
      image: Buffer;
      ts: Date;
      received_at: Date;
      keep: boolean;
    }>(
      `SELECT evidence_id, site_id, node_id, camera_id, sha256, image, ts, received_at, keep
         FROM evidence_images WHERE evidence_id = $1 ORDER BY received_at LIMIT 1`,
      [evidenceId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      evidenceId: r.evidence_id,
      siteId: r.site_id,
      nodeId: r.node_id,
      cameraId: r.camera_id,
      sha256: r.sha256,
      image: r.image,
      capturedAt: r.ts,
      receivedAt: r.received_at,
      keep: r.keep,
    };
  }

  /** Marks an image as kept for a case (`keep`) or returns it to normal retention; returns images changed. */
  async setKeep(
    evidenceId: string,
    keep: boolean,
    reason: string | null,
    q: Queryable = this.db.pool,
  ): Promise<number> {
    const { rowCount } = await q.query(
      'UPDATE evidence_images SET keep = $2, keep_reason = $3 WHERE evidence_id = $1',
      [evidenceId, keep, keep ? reason : null],
    );
    return rowCount ?? 0;
  }
}
