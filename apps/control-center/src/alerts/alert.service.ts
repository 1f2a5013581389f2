import type { EvidenceRepository } from '../database/repositories/evidence.repository';
import {
  ALERT_NOTE_MAX_CHARS,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  type Alert,
  type AlertHistoryAction,
  type AlertHistoryEntry,
  type AlertKind,
  type AlertSeverity,
  type AlertState,
  type AlertTransitionAction,
  type Page,
} from '@vigil/contracts';
import type { PoolClient } from 'pg';
import { canSeeSite, type AuthUser } from '../auth/auth.decorators';
import { AppError } from '../common/app-error';
import type { EventBus } from '../events/event-bus';
import { mayDo, mayRead, nextState, type AlertAction } from './alert-workflow';
import type { AlertPatch, AlertRepository, HistoryInput } from './alert.repository';

/** The list's filters (the parsed `AlertListQuery`, or a subset). */
export interface AlertListFilter {
  siteId?: readonly string[];
  cameraId?: string;
  kind?: readonly AlertKind[];
  state?: readonly AlertState[];
  severity?: readonly AlertSeverity[];
  from?: string | Date;
  to?: string | Date;
  after?: string;
  order?: 'asc' | 'desc';
  limit?: number;
}

/** What one transaction of the alert source changed, for the events emitted after its commit. */
export interface AlertChanges {
  created: Alert[];
  updated: { alert: Alert; action: AlertHistoryAction }[];
}

export const SYSTEM_ACTOR = 'system';
const ID = /^[1-9][0-9]{0,18}$/;

/**
 * Alerts for operators: the list and detail scoped to the caller's sites, the workflow with optimistic
 * concurrency, notes, assignment and confirmation. Every change writes its history row in the same transaction, and
 * `alert.created` / `alert.updated` are emitted after the commit.
 */
export class AlertService {
  constructor(
    private readonly repo: AlertRepository,
    private readonly events: EventBus,
    private readonly evidence: EvidenceRepository,
  ) {}

  async list(user: AuthUser, filter: AlertListFilter = {}): Promise<Page<Alert>> {
    this.mustRead(user);
    let siteIds: readonly string[] | null = filter.siteId ?? null;
    if (!user.allSites) siteIds = (siteIds ?? user.siteIds).filter((s) => user.siteIds.includes(s));
    const limit = Math.min(Math.max(filter.limit ?? PAGE_LIMIT_DEFAULT, 1), PAGE_LIMIT_MAX);
    if (filter.after !== undefined && !/^(0|[1-9][0-9]{0,18})$/.test(filter.after)) {
      throw new AppError('VALIDATION_FAILED', 'after must be an alert id', [
        { path: 'after', message: 'must be an id' },
      ]);
    }
    if (siteIds !== null && siteIds.length === 0) return { items: [], nextCursor: null };
    const date = (d: string | Date | undefined) => (d === undefined ? undefined : new Date(d));
    const items = await this.repo.list({
      siteIds,
      cameraId: filter.cameraId,
      kinds: filter.kind,
      states: filter.state,
      severities: filter.severity,
      from: date(filter.from),
      to: date(filter.to),
      after: filter.after,
      order: filter.order ?? 'desc',
      limit,
    });
    return { items, nextCursor: items.length === limit ? items[items.length - 1].id : null };
  }

  /** One alert; another site's alert (or an id that is not one) is NOT_FOUND, so ids tell nothing. */
  async get(user: AuthUser, id: string): Promise<Alert> {
    this.mustRead(user);
    const alert = ID.test(id) ? await this.repo.get(id) : null;
    if (!alert || !canSeeSite(user, alert.siteId)) throw notFound(id);
    return alert;
  }

  async history(user: AuthUser, id: string): Promise<AlertHistoryEntry[]> {
    const alert = await this.get(user, id);
    return this.repo.history(alert.id);
  }

  /** A workflow step; CONFLICT when the version moved or the step is not allowed from the current state. */
  transition(
    user: AuthUser,
    id: string,
    action: AlertTransitionAction,
    expectedVersion: number,
    note?: string,
  ): Promise<Alert> {
    return this.change(user, id, action, expectedVersion, (current) => {
      const next = nextState(current.state, action);
      if (!next.ok) throw new AppError('CONFLICT', `alert ${id}: ${next.reason}`);
      if (action === 'false_positive' && current.confirmedBy !== null) {
        throw new AppError('CONFLICT', `alert ${id} was confirmed as a violation by ${current.confirmedBy}`);
      }
      return {
        patch: { state: next.to },
        entry: { action, fromState: current.state, toState: next.to, note: boundedNote(note) },
      };
    });
  }

  /** Sets (or with null clears) the assignee. */
  assign(user: AuthUser, id: string, assignee: string | null, expectedVersion: number): Promise<Alert> {
    return this.change(user, id, 'assign', expectedVersion, (current) => ({
      patch: { assignee },
      entry: {
        action: 'assign',
        fromState: current.state,
        toState: current.state,
        note: assignee === null ? 'unassigned' : `assigned to ${assignee}`,
      },
    }));
  }

  /** Appends a note to the history; notes never conflict, so the version stays. */
  addNote(user: AuthUser, id: string, note: string): Promise<Alert> {
    return this.change(user, id, 'note', null, (current) => ({
      patch: null,
      entry: { action: 'note', fromState: current.state, toState: current.state, note: boundedNote(note) },
    }));
  }

  /** Human oversight: a named operator confirms a parking violation (only those can be exported). */
  confirmViolation(user: AuthUser, id: string, expectedVersion: number): Promise<Alert> {
    return this.change(user, id, 'confirm', expectedVersion, (current) => {
      if (current.kind !== 'parking_violation') {
        throw new AppError('CONFLICT', `alert ${id} is a ${current.kind} alert; only parking violations are confirmed`);
      }
      if (current.confirmedBy !== null) {
        throw new AppError('CONFLICT', `alert ${id} was already confirmed by ${current.confirmedBy}`);
      }
      if (current.state === 'false_positive') {
        throw new AppError('CONFLICT', `alert ${id} is false positive; a false positive cannot be confirmed`);
      }
      const evidenceId = (current.details as { evidence?: { evidenceId?: string } | null }).evidence?.evidenceId;
      return {
        patch: { confirmedBy: user.username, confirmedAt: new Date() },
        entry: { action: 'confirm', fromState: current.state, toState: current.state, note: null },
        // Enforcement evidence outlives the 72 h image retention once a person confirmed it (kept in the same
        // transaction, so an export never names a sha256 whose image retention already deleted).
        also: evidenceId
          ? async (q) => {
              await this.evidence.setKeep(evidenceId, true, `confirmed violation (alert ${id})`, q);
            }
          : undefined,
      };
    });
  }

  /**
   * Runs the alert source's changes in one transaction, then announces them. `work` returns what it changed; its
   * history rows are its own to write (through the repository, on the client it is given).
   */
  async record(work: (q: PoolClient) => Promise<AlertChanges>): Promise<AlertChanges> {
    const changes = await this.tx(work);
    for (const alert of changes.created) this.events.emit('alert.created', { alert });
    for (const u of changes.updated) {
      this.events.emit('alert.updated', { alert: u.alert, action: u.action, actor: SYSTEM_ACTOR });
    }
    return changes;
  }

  private mustRead(user: AuthUser): void {
    if (!mayRead(user.role)) throw new AppError('FORBIDDEN', `a ${user.role} may not read alerts`);
  }

  /**
   * One operator change: role, scope and version checked with the alert locked, the change and its history row
   * written together, the event emitted after the commit. `expectedVersion` null: a change that never conflicts.
   */
  private async change(
    user: AuthUser,
    id: string,
    action: AlertAction,
    expectedVersion: number | null,
    plan: (current: Alert) => {
      patch: AlertPatch | null;
      entry: Omit<HistoryInput, 'alertId' | 'actor'>;
      /** More work in the same transaction (after the alert row is updated). */
      also?: (q: PoolClient) => Promise<void>;
    },
  ): Promise<Alert> {
    if (!mayDo(user.role, action)) throw new AppError('FORBIDDEN', `a ${user.role} may not ${action} alerts`);
    if (!ID.test(id)) throw notFound(id);
    const { alert, entry } = await this.tx(async (q) => {
      const current = await this.repo.lock(id, q);
      if (!current || !canSeeSite(user, current.siteId)) throw notFound(id);
      if (expectedVersion !== null && current.version !== expectedVersion) {
        throw new AppError(
          'CONFLICT',
          `alert ${id} changed meanwhile: it is at version ${current.version} (state ${current.state}), ` +
            `not ${expectedVersion}; reload it and try again`,
        );
      }
      const { patch, entry, also } = plan(current);
      const next = patch ? await this.repo.update(id, current.version, patch, q) : await this.repo.touch(id, q);
      // Unreachable while the row is locked; kept so a lost update can never pass silently.
      if (!next) throw new AppError('CONFLICT', `alert ${id} changed meanwhile; reload it and try again`);
      await this.repo.addHistory([{ alertId: id, actor: user.username, ...entry }], q);
      await also?.(q);
      return { alert: next, entry };
    });
    this.events.emit('alert.updated', { alert, action: entry.action, actor: user.username });
    return alert;
  }

  private async tx<T>(work: (q: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.repo.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackErr) {
        client.release(rollbackErr as Error);
      }
      throw err;
    }
  }
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `no alert ${id}`);
}

/** A note within its bound (the API schema refuses longer ones first; this holds for every caller). */
function boundedNote(note: string | undefined): string | null {
  if (note === undefined) return null;
  const trimmed = note.trim();
  if (trimmed.length === 0)
    throw new AppError('VALIDATION_FAILED', 'note must not be empty', [{ path: 'note', message: 'must not be empty' }]);
  if (trimmed.length > ALERT_NOTE_MAX_CHARS) {
    throw new AppError('VALIDATION_FAILED', `note is longer than ${ALERT_NOTE_MAX_CHARS} characters`, [
      { path: 'note', message: `at most ${ALERT_NOTE_MAX_CHARS} characters` },
    ]);
  }
  return trimmed;
}
