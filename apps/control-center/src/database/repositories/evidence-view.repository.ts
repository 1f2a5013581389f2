import type { Database, Queryable } from '../database.types';

export interface EvidenceView {
  evidenceId: string;
  siteId: string;
  userId: string;
  username: string;
  role: string;
  clientIp: string;
  userAgent: string | null;
}

/** The audit trail of evidence images viewed (append-only). */
export class EvidenceViewRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  async record(v: EvidenceView, q: Queryable = this.db.pool): Promise<void> {
    await q.query(
      `INSERT INTO evidence_views (evidence_id, site_id, user_id, username, role, client_ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [v.evidenceId, v.siteId, v.userId, v.username, v.role, v.clientIp, v.userAgent],
    );
  }
}
