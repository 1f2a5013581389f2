import type {
  Alert,
  AlertHistoryAction,
  AlertHistoryEntry,
  AlertKind,
  AlertSeverity,
  AlertState,
  ViolationState,
} from '@vigil/contracts';
import type { Database, Queryable } from '../database/database.types';

/** A new alert as the source creates it (workflow fields take their defaults). */
export interface NewAlert {
  siteId: string;
  nodeId: string;
  cameraId: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  source: string;
  violationState: ViolationState | null;
  openedAt: Date;
  clearedAt: Date | null;
  details: Record<string, unknown>;
}

export interface HistoryInput {
  alertId: string;
  actor: string;
  action: AlertHistoryAction;
  fromState: AlertState | null;
  toState: AlertState | null;
  note: string | null;
}

/** The list's filters, already scoped: `siteIds` null means every site. */
export interface AlertFilter {
  siteIds: readonly string[] | null;
  cameraId?: string;
  kinds?: readonly AlertKind[];
  states?: readonly AlertState[];
  severities?: readonly AlertSeverity[];
  from?: Date;
  to?: Date;
  after?: string;
  order: 'asc' | 'desc';
  limit: number;
}

/** Workflow fields an operator action changes (each bumps the version). */
export interface AlertPatch {
  state?: AlertState;
  assignee?: string | null;
  confirmedBy?: string;
  confirmedAt?: Date;
}

interface AlertRow {
  id: string;
  site_id: string;
  node_id: string;
  camera_id: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  source: string;
  violation_state: ViolationState | null;
  state: AlertState;
  assignee: string | null;
  confirmed_by: string | null;
  confirmed_at: Date | null;
  version: number;
  opened_at: Date;
  cleared_at: Date | null;
  created_at: Date;
  updated_at: Date;
  details: Record<string, unknown>;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function toAlert(r: AlertRow): Alert {
  return {
    id: String(r.id),
    siteId: r.site_id,
    nodeId: r.node_id,
    cameraId: r.camera_id,
    kind: r.kind,
    severity: r.severity,
    source: r.source,
    violationState: r.violation_state,
    state: r.state,
    assignee: r.assignee,
    confirmedBy: r.confirmed_by,
    confirmedAt: iso(r.confirmed_at),
    version: r.version,
    openedAt: r.opened_at.toISOString(),
    clearedAt: iso(r.cleared_at),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    details: r.details,
  };
}

const INSERT_COLUMNS =
  'site_id, node_id, camera_id, kind, severity, source, violation_state, opened_at, cleared_at, details';

function insertParams(a: NewAlert): unknown[] {
  return [
    a.siteId,
    a.nodeId,
    a.cameraId,
    a.kind,
    a.severity,
    a.source,
    a.violationState,
    a.openedAt,
    a.clearedAt,
    JSON.stringify(a.details),
  ];
}

/** Alerts and their history (`alerts`, `alert_history`): every statement; callers pass their transaction's client. */
export class AlertRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  get pool(): Database['pool'] {
    return this.db.pool;
  }

  /** Inserts unless the same source (or an open alert of the same condition) exists; null when it did. */
  async insertIfAbsent(a: NewAlert, q: Queryable = this.db.pool): Promise<Alert | null> {
    const { rows } = await q.query<AlertRow>(
      `INSERT INTO alerts (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT DO NOTHING RETURNING *`,
      insertParams(a),
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /**
   * A violation message applied to its alert: created on first sight (whatever the phase: a start may have been
   * lost), otherwise moved forward only — never back from `end`, never by a message older than the last applied
   * (`details.ts`). Returns the alert and the violation state before, or null when nothing changed.
   */
  async applyViolation(
    a: NewAlert & { violationState: ViolationState },
    q: Queryable = this.db.pool,
  ): Promise<{ alert: Alert; before: ViolationState | null } | null> {
    const { rows } = await q.query<AlertRow & { before: ViolationState | null }>(
      `WITH prior AS (SELECT violation_state FROM alerts WHERE site_id = $1 AND kind = $4 AND source = $6)
       INSERT INTO alerts (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (site_id, kind, source) DO UPDATE
          SET violation_state = EXCLUDED.violation_state, cleared_at = EXCLUDED.cleared_at,
              details = EXCLUDED.details, updated_at = now()
        WHERE alerts.violation_state <> 'end'
          AND (EXCLUDED.details->>'ts')::timestamptz > (alerts.details->>'ts')::timestamptz
       RETURNING alerts.*, (SELECT violation_state FROM prior) AS before`,
      insertParams(a),
    );
    return rows[0] ? { alert: toAlert(rows[0]), before: rows[0].before } : null;
  }

  /** Clears the open alerts of a condition that began at or before `at`; returns them. */
  async clearOpen(
    key: { siteId: string; nodeId: string; cameraId: string | null; kind: AlertKind },
    at: Date,
    q: Queryable = this.db.pool,
  ): Promise<Alert[]> {
    const { rows } = await q.query<AlertRow>(
      `UPDATE alerts SET cleared_at = $5, updated_at = now()
        WHERE site_id = $1 AND node_id = $2 AND coalesce(camera_id, '') = coalesce($3, '') AND kind = $4
          AND cleared_at IS NULL AND opened_at <= $5
       RETURNING *`,
      [key.siteId, key.nodeId, key.cameraId, key.kind, at],
    );
    return rows.map(toAlert);
  }

  /** The newest alert of a kind for a node (occurrence alerts merge into it). */
  async latestOfNode(siteId: string, nodeId: string, kind: AlertKind, q: Queryable = this.db.pool) {
    const { rows } = await q.query<AlertRow>(
      'SELECT * FROM alerts WHERE site_id = $1 AND node_id = $2 AND kind = $3 ORDER BY id DESC LIMIT 1',
      [siteId, nodeId, kind],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** Another occurrence merged into an occurrence alert: its details and last occurrence move. */
  async mergeOccurrence(id: string, details: Record<string, unknown>, at: Date, q: Queryable = this.db.pool) {
    const { rows } = await q.query<AlertRow>(
      `UPDATE alerts SET details = $2, cleared_at = $3, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, JSON.stringify(details), at],
    );
    return toAlert(rows[0]);
  }

  /**
   * The camera's current run of trouble from its stored statuses: since the last `streaming`, when it first went
   * stalled or failed, and its latest state. Null when it is streaming (or never went stalled or failed since).
   */
  async cameraTrouble(
    siteId: string,
    nodeId: string,
    cameraId: string,
    q: Queryable = this.db.pool,
  ): Promise<{ since: Date; state: string; reason: string | null } | null> {
    const { rows } = await q.query<{ since: Date | null; state: string | null; reason: string | null }>(
      `WITH last_ok AS (
         SELECT coalesce(max(ts), '-infinity'::timestamptz) AS ts FROM camera_status
          WHERE site_id = $1 AND node_id = $2 AND camera_id = $3 AND state = 'streaming'),
       run AS (
         SELECT ts, state, reason FROM camera_status
          WHERE site_id = $1 AND node_id = $2 AND camera_id = $3 AND ts > (SELECT ts FROM last_ok))
       SELECT (SELECT min(ts) FROM run WHERE state IN ('stalled', 'failed')) AS since,
              (SELECT state FROM run ORDER BY ts DESC LIMIT 1) AS state,
              (SELECT reason FROM run ORDER BY ts DESC LIMIT 1) AS reason`,
      [siteId, nodeId, cameraId],
    );
    const r = rows[0];
    return r.since && r.state ? { since: r.since, state: r.state, reason: r.reason } : null;
  }

  /** Locks one alert for an operator's change (the transaction's other statements see it unchanged). */
  async lock(id: string, q: Queryable): Promise<Alert | null> {
    const { rows } = await q.query<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** Applies a workflow change and bumps the version, provided the version is still `expectedVersion`. */
  async update(id: string, expectedVersion: number, patch: AlertPatch, q: Queryable): Promise<Alert | null> {
    const { rows } = await q.query<AlertRow>(
      `UPDATE alerts
          SET state = coalesce($3, state),
              assignee = CASE WHEN $4::boolean THEN $5 ELSE assignee END,
              confirmed_by = coalesce($6, confirmed_by),
              confirmed_at = coalesce($7, confirmed_at),
              version = version + 1, updated_at = now()
        WHERE id = $1 AND version = $2
       RETURNING *`,
      [
        id,
        expectedVersion,
        patch.state ?? null,
        patch.assignee !== undefined,
        patch.assignee ?? null,
        patch.confirmedBy ?? null,
        patch.confirmedAt ?? null,
      ],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** Marks a change that keeps the version (a note): `updated_at` moves. */
  async touch(id: string, q: Queryable): Promise<Alert> {
    const { rows } = await q.query<AlertRow>('UPDATE alerts SET updated_at = now() WHERE id = $1 RETURNING *', [id]);
    return toAlert(rows[0]);
  }

  async addHistory(entries: readonly HistoryInput[], q: Queryable = this.db.pool): Promise<void> {
    if (entries.length === 0) return;
    await q.query(
      `INSERT INTO alert_history (alert_id, actor, action, from_state, to_state, note)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
      [
        entries.map((e) => e.alertId),
        entries.map((e) => e.actor),
        entries.map((e) => e.action),
        entries.map((e) => e.fromState),
        entries.map((e) => e.toState),
        entries.map((e) => e.note),
      ],
    );
  }

  async get(id: string, q: Queryable = this.db.pool): Promise<Alert | null> {
    const { rows } = await q.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async history(alertId: string, q: Queryable = this.db.pool): Promise<AlertHistoryEntry[]> {
    const { rows } = await q.query<{
      alert_id: string;
      at: Date;
      actor: string;
      action: AlertHistoryAction;
      from_state: AlertState | null;
      to_state: AlertState | null;
      note: string | null;
    }>('SELECT * FROM alert_history WHERE alert_id = $1 ORDER BY id', [alertId]);
    return rows.map((r) => ({
      alertId: String(r.alert_id),
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      fromState: r.from_state,
      toState: r.to_state,
      note: r.note,
    }));
  }

  /** One page of the list, ordered by id (the cursor). */
  async list(f: AlertFilter, q: Queryable = this.db.pool): Promise<Alert[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.siteIds !== null) add((p) => `site_id = ANY(${p}::text[])`, f.siteIds);
    if (f.cameraId !== undefined) add((p) => `camera_id = ${p}`, f.cameraId);
    if (f.kinds) add((p) => `kind = ANY(${p}::text[])`, f.kinds);
    if (f.states) add((p) => `state = ANY(${p}::text[])`, f.states);
    if (f.severities) add((p) => `severity = ANY(${p}::text[])`, f.severities);
    if (f.from) add((p) => `created_at >= ${p}`, f.from);
    if (f.to) add((p) => `created_at < ${p}`, f.to);
    if (f.after !== undefined) add((p) => `id ${f.order === 'asc' ? '>' : '<'} ${p}::bigint`, f.after);
    params.push(f.limit);
    const { rows } = await q.query<AlertRow>(
      `SELECT * FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id ${f.order === 'asc' ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAlert);
  }
}
