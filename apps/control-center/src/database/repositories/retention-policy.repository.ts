import type { Queryable } from '../database.types';

/** How long each relation keeps its rows, from the `retention_policy` table (see migrations/0001_core.sql). */
export class RetentionPolicyRepository {
  constructor(private readonly db: { pool: Queryable }) {}

  /** relation -> retention in milliseconds. */
  async load(q: Queryable = this.db.pool): Promise<Map<string, number>> {
    const { rows } = await q.query<{ relation: string; ms: string }>(
      'SELECT relation, (extract(epoch FROM keep) * 1000)::bigint AS ms FROM retention_policy',
    );
    return new Map(rows.map((r) => [r.relation, Number(r.ms)]));
  }
}
