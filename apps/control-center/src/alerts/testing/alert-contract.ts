import { randomUUID } from 'node:crypto';
import type { CameraStatus, DetectionEvent, Heartbeat, NodeStatus } from '@vigil/contracts';
import type { AuthUser } from '../../auth/auth.decorators';
import { AppError } from '../../common/app-error';
import type { Database } from '../../database/database.types';
import { EvidenceRepository } from '../../database/repositories/evidence.repository';
import { IngestRepository, type IngestItem } from '../../database/repositories/ingest.repository';
import { silentLogger } from '../../database/testing/database-contract';
import { eventItems } from '../../database/testing/ingest-items';
import { EventBus } from '../../events/event-bus';
import type { IngestCommittedEvent } from '../../ingest/ingest.events';
import type { RecordedLoss } from '../../ingest/ingest.types';
import { AlertSource } from '../alert-source';
import { AlertRepository } from '../alert.repository';
import { AlertService } from '../alert.service';

const SECOND = 1000;

function user(role: AuthUser['role'], siteIds: string[], username = `${role}-${siteIds.join('+')}`): AuthUser {
  return { id: randomUUID(), username, role, siteIds, allSites: false };
}

/** The error an AppError-throwing call rejects with, for matching its code and message. */
async function failure(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/**
 * The alerts' behaviour against a real database, run on both flavours (plain PostgreSQL and the embedded PGlite):
 * alerts from committed ingest batches, idempotent on replay; the workflow with optimistic concurrency; site scope.
 */
export function alertContract(getDb: () => Database): void {
  let repo: AlertRepository;
  let service: AlertService;
  let source: AlertSource;
  let bus: EventBus;
  let emitted: { name: string; id: string; action?: string }[];
  let site: string;

  beforeEach(() => {
    const db = getDb();
    bus = new EventBus(silentLogger);
    emitted = [];
    bus.on('alert.created', (e) => void emitted.push({ name: 'created', id: e.alert.id }));
    bus.on('alert.updated', (e) => void emitted.push({ name: 'updated', id: e.alert.id, action: e.action }));
    repo = new AlertRepository(db);
    service = new AlertService(repo, bus, new EvidenceRepository(db));
    source = new AlertSource(
      service,
      repo,
      { cameraDownAfterMs: 60 * SECOND, occurrenceWindowMs: 600 * SECOND },
      silentLogger,
    );
    site = `site-${randomUUID().slice(0, 8)}`;
  });

  /** Stores the items as ingest does, then hands the committed batch to the alert source (as the bus would). */
  async function commit(items: IngestItem[], losses: RecordedLoss[] = []): Promise<IngestCommittedEvent> {
    const r = await new IngestRepository(getDb()).insertBatch(items);
    const e: IngestCommittedEvent = {
      committedAt: new Date(),
      items,
      deadLetters: [],
      losses,
      inserted: r.inserted,
      duplicates: r.duplicates,
    };
    await source.handle(e);
    return e;
  }

  const operator = () => user('operator', [site], `op-${site}`);

  /** One violation's lifecycle, each phase its own message. */
  function violation(kind: DetectionEvent['kind'] = 'parking_violation') {
    const [base] = eventItems(1, { siteId: site });
    const eventId = randomUUID();
    const startedAt = Date.now() - 120 * SECOND;
    let seq = 0;
    const phase = (p: DetectionEvent['phase'], atS: number): IngestItem => {
      const ts = new Date(startedAt + atS * SECOND).toISOString();
      const m = base.message as DetectionEvent;
      const message: DetectionEvent = {
        ...m,
        kind,
        eventId,
        seq: ++seq,
        ts,
        phase: p,
        startedAt: new Date(startedAt).toISOString(),
        dwellSeconds: atS,
        endedAt: p === 'end' ? ts : null,
        endReason: p === 'end' ? 'departed' : null,
        pedestriansPresent: kind === 'pedestrian_blocking' ? 2 : null,
      };
      return { ...base, message, receivedAt: new Date() };
    };
    return { eventId, phase };
  }

  async function alertCount(where = 'site_id = $1', params: unknown[] = [site]): Promise<number> {
    const { rows } = await getDb().pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alerts WHERE ${where}`,
      params,
    );
    return rows[0].n;
  }

  async function newAlert(kind: DetectionEvent['kind'] = 'parking_violation') {
    await commit([violation(kind).phase('start', 0)]);
    const page = await service.list(operator(), {});
    expect(page.items).toHaveLength(1);
    return page.items[0];
  }

  describe('alerts from violations', () => {
    it('keeps one alert per violation event id through start, update and end, and its history', async () => {
      const v = violation();
      await commit([v.phase('start', 0)]);
      await commit([v.phase('update', 30)]);
      await commit([v.phase('update', 60)]);
      await commit([v.phase('end', 90)]);
      const { items } = await service.list(operator(), {});
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        siteId: site,
        kind: 'parking_violation',
        severity: 'medium',
        source: v.eventId,
        violationState: 'end',
        state: 'new',
        version: 1,
        details: { dwellSeconds: 90, endReason: 'departed' },
      });
      expect(items[0].clearedAt).not.toBeNull();
      const history = await service.history(operator(), items[0].id);
      expect(history.map((h) => [h.actor, h.action])).toEqual([
        ['system', 'created'],
        ['system', 'violation_update'],
        ['system', 'violation_end'],
      ]);
      expect(emitted.map((e) => e.name + (e.action ? `:${e.action}` : ''))).toEqual([
        'created',
        'updated:violation_update',
        'updated:violation_update',
        'updated:violation_end',
      ]);
    });

    it('creates nothing twice when a batch is replayed, and never moves a violation back', async () => {
      const v = violation('pedestrian_blocking');
      const batch = [v.phase('start', 0), v.phase('update', 10)];
      await commit(batch);
      await commit([v.phase('end', 20)]);
      emitted = [];
      await commit(batch); // replayed: already stored, already applied
      expect(await alertCount()).toBe(1);
      const [alert] = (await service.list(operator(), {})).items;
      expect(alert).toMatchObject({ violationState: 'end', severity: 'high', kind: 'pedestrian_blocking' });
      expect(emitted).toEqual([]);
      expect(await service.history(operator(), alert.id)).toHaveLength(3);
    });

    it('opens the alert from a later phase when the start never arrived', async () => {
      const v = violation();
      await commit([v.phase('update', 40)]);
      const [alert] = (await service.list(operator(), {})).items;
      expect(alert).toMatchObject({ source: v.eventId, violationState: 'update' });
      expect(emitted).toEqual([{ name: 'created', id: alert.id }]);
    });
  });

  describe('system alerts', () => {
    const bootId = randomUUID();
    const cameraStatus = (seq: number, at: number, state: CameraStatus['state']): IngestItem => ({
      kind: 'camera_status',
      siteId: site,
      nodeId: 'node-1',
      cameraId: 'cam-1',
      receivedAt: new Date(),
      message: {
        bootId,
        seq,
        ts: new Date(at).toISOString(),
        state,
        reason: state === 'streaming' ? null : 'no frames',
        attempt: 0,
        nextRetryMs: null,
        frameSize: null,
      },
    });
    const heartbeat = (
      seq: number,
      at: number,
      camera: CameraStatus['state'],
      evicted: Record<string, number> = {},
      boot = bootId,
    ): IngestItem => {
      const message: Heartbeat = {
        bootId: boot,
        seq,
        ts: new Date(at).toISOString(),
        uptimeS: 100,
        configVersion: 1,
        cameras: [{ cameraId: 'cam-1', state: camera, fps: 5, inferenceMs: 20, droppedFrames: 0 }],
        outbox: { depth: 0, bytes: 0, oldestAgeS: null, evicted },
      };
      return { kind: 'heartbeat', siteId: site, nodeId: 'node-1', cameraId: null, receivedAt: new Date(), message };
    };

    it('opens camera_down once the camera has been stalled past the threshold by its own times, and clears it when streaming', async () => {
      const t0 = Date.now() - 600 * SECOND;
      await commit([cameraStatus(1, t0 - 60 * SECOND, 'streaming'), cameraStatus(2, t0, 'stalled')]);
      await commit([heartbeat(3, t0 + 30 * SECOND, 'stalled')]);
      expect(await alertCount()).toBe(0); // 30 s: under the threshold
      const late = [heartbeat(4, t0 + 61 * SECOND, 'stalled'), cameraStatus(5, t0 + 62 * SECOND, 'failed')];
      await commit(late);
      await commit(late); // replay
      const { items } = await service.list(operator(), { kind: ['camera_down'] });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        cameraId: 'cam-1',
        severity: 'high',
        openedAt: new Date(t0).toISOString(),
        clearedAt: null,
      });

      await commit([cameraStatus(6, t0 + 90 * SECOND, 'streaming')]);
      const cleared = await service.get(operator(), items[0].id);
      expect(cleared.clearedAt).toBe(new Date(t0 + 90 * SECOND).toISOString());
      // An old heartbeat replayed after recovery opens nothing.
      await commit([heartbeat(4, t0 + 61 * SECOND, 'stalled')]);
      expect(await alertCount()).toBe(1);
      expect((await service.history(operator(), items[0].id)).map((h) => h.action)).toEqual(['created', 'cleared']);
    });

    it('opens node_offline on the last will, once, and clears it when the node is online again', async () => {
      const willAt = Date.now() - 300 * SECOND;
      const node = (state: NodeStatus['state'], at: number, seq?: number): IngestItem => ({
        kind: 'node_status',
        siteId: site,
        nodeId: 'node-7',
        cameraId: null,
        receivedAt: new Date(),
        message: {
          bootId,
          ...(seq === undefined ? {} : { seq }),
          ts: new Date(at).toISOString(),
          state,
          reason: state === 'offline' ? 'connection_lost' : 'started',
          version: '1.0.0',
          configVersion: 1,
          cameras: ['cam-1'],
        },
      });
      await commit([node('offline', willAt)]);
      await commit([node('offline', willAt)]);
      const { items } = await service.list(operator(), { kind: ['node_offline'] });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ nodeId: 'node-7', severity: 'critical', clearedAt: null, cameraId: null });
      await commit([node('online', willAt + 120 * SECOND, 1)]);
      expect((await service.get(operator(), items[0].id)).clearedAt).toBe(
        new Date(willAt + 120 * SECOND).toISOString(),
      );
    });

    it('raises one outbox-eviction alert per occurrence window, counting only new evictions', async () => {
      const t = Date.now() - 200 * SECOND;
      const first = [heartbeat(10, t, 'streaming', { event: 3 })];
      await commit(first);
      await commit(first); // replay: nothing new evicted
      await commit([heartbeat(11, t + 30 * SECOND, 'streaming', { event: 3, count: 2 })]);
      const { items } = await service.list(operator(), { kind: ['outbox_eviction'] });
      expect(items).toHaveLength(1);
      expect(items[0].details).toMatchObject({ total: 5, inWindow: 5 });
      expect((await service.history(operator(), items[0].id)).map((h) => h.action)).toEqual(['created', 'occurred']);
    });

    it('raises one delivery-loss alert per occurrence window', async () => {
      const loss = (from: number, to: number): RecordedLoss => ({
        siteId: site,
        nodeId: 'node-1',
        bootId,
        ranges: [{ from, to }],
        seqs: to - from + 1,
      });
      await commit([], [loss(1, 10)]);
      await commit([], [loss(20, 24)]);
      const { items } = await service.list(operator(), { kind: ['delivery_loss'] });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ severity: 'medium', details: { seqs: 15 } });
    });
  });

  describe('workflow', () => {
    it('walks new -> acknowledged -> in_progress -> resolved with a history row per step', async () => {
      const alert = await newAlert();
      const op = operator();
      const a1 = await service.transition(op, alert.id, 'acknowledge', 1);
      const a2 = await service.assign(op, alert.id, 'm.rossi', a1.version);
      const a3 = await service.transition(op, alert.id, 'start', a2.version, 'on my way');
      await service.addNote(op, alert.id, 'car towed');
      const done = await service.transition(op, alert.id, 'resolve', a3.version);
      expect(done).toMatchObject({ state: 'resolved', assignee: 'm.rossi', version: 5 });
      const history = await service.history(op, alert.id);
      expect(history.map((h) => [h.actor, h.action, h.fromState, h.toState, h.note])).toEqual([
        ['system', 'created', 'new', 'new', null],
        [op.username, 'acknowledge', 'new', 'acknowledged', null],
        [op.username, 'assign', 'acknowledged', 'acknowledged', 'assigned to m.rossi'],
        [op.username, 'start', 'acknowledged', 'in_progress', 'on my way'],
        [op.username, 'note', 'in_progress', 'in_progress', 'car towed'],
        [op.username, 'resolve', 'in_progress', 'resolved', null],
      ]);
      expect(emitted.filter((e) => e.name === 'updated').map((e) => e.action)).toEqual([
        'acknowledge',
        'assign',
        'start',
        'note',
        'resolve',
      ]);
    });

    it('lets exactly one of two concurrent transitions with the same expected version win', async () => {
      const alert = await newAlert();
      const results = await Promise.allSettled([
        service.transition(user('operator', [site], 'anna'), alert.id, 'acknowledge', 1),
        service.transition(user('operator', [site], 'boris'), alert.id, 'acknowledge', 1),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [lost] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(lost.reason).toBeInstanceOf(AppError);
      expect((lost.reason as AppError).code).toBe('CONFLICT');
      expect((lost.reason as AppError).message).toMatch(/version 2 \(state acknowledged\), not 1/);
      const history = await service.history(operator(), alert.id);
      expect(history.filter((h) => h.action === 'acknowledge')).toHaveLength(1);
      expect((await service.get(operator(), alert.id)).version).toBe(2);
    });

    it('refuses an illegal transition with CONFLICT naming the current state, and stores nothing', async () => {
      const alert = await newAlert();
      const err = await failure(service.transition(operator(), alert.id, 'resolve', 1));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toContain('cannot resolve an alert that is new; allowed from new: acknowledge');
      expect(await service.get(operator(), alert.id)).toMatchObject({ state: 'new', version: 1 });
      expect(await service.history(operator(), alert.id)).toHaveLength(1);
    });

    it('refuses a note over the bound and actions by roles that may not act', async () => {
      const alert = await newAlert();
      const long = await failure(service.addNote(operator(), alert.id, 'x'.repeat(2001)));
      expect(long.code).toBe('VALIDATION_FAILED');
      const auditor = user('auditor', [site]);
      expect((await failure(service.transition(auditor, alert.id, 'acknowledge', 1))).code).toBe('FORBIDDEN');
      const analyst = user('traffic_analyst', [site]);
      expect((await failure(service.get(analyst, alert.id))).code).toBe('FORBIDDEN');
      expect(await service.get(auditor, alert.id)).toMatchObject({ id: alert.id });
      expect(await service.history(operator(), alert.id)).toHaveLength(1);
    });

    it('records a parking violation confirmed by a named operator, once, and only for parking violations', async () => {
      const alert = await newAlert();
      const op = user('operator', [site], 'g.bianchi');
      const confirmed = await service.confirmViolation(op, alert.id, 1);
      expect(confirmed).toMatchObject({ confirmedBy: 'g.bianchi', version: 2 });
      expect(confirmed.confirmedAt).not.toBeNull();
      expect((await failure(service.confirmViolation(op, alert.id, 2))).message).toMatch(
        /already confirmed by g\.bianchi/,
      );
      const other = await newPedestrianAlert();
      expect((await failure(service.confirmViolation(op, other.id, 1))).message).toMatch(/only parking violations/);
      const history = await service.history(op, alert.id);
      expect(history.at(-1)).toMatchObject({ actor: 'g.bianchi', action: 'confirm' });
    });

    async function newPedestrianAlert() {
      await commit([violation('pedestrian_blocking').phase('start', 0)]);
      return (await service.list(operator(), { kind: ['pedestrian_blocking'] })).items[0];
    }
  });

  describe('site scope', () => {
    it("answers NOT_FOUND for another site's alert, by id too, and lists only the caller's sites", async () => {
      const alert = await newAlert();
      const stranger = user('operator', ['site-elsewhere']);
      expect((await failure(service.get(stranger, alert.id))).code).toBe('NOT_FOUND');
      expect((await failure(service.get(stranger, '999999999'))).code).toBe('NOT_FOUND');
      expect((await failure(service.get(stranger, 'drop table'))).code).toBe('NOT_FOUND');
      expect((await failure(service.transition(stranger, alert.id, 'acknowledge', 1))).code).toBe('NOT_FOUND');
      expect((await failure(service.addNote(stranger, alert.id, 'hi'))).code).toBe('NOT_FOUND');
      expect((await service.list(stranger, {})).items).toEqual([]);
      expect((await service.list(stranger, { siteId: [site] })).items).toEqual([]);
      const admin: AuthUser = { ...user('admin', []), allSites: true };
      expect((await service.list(admin, { siteId: [site] })).items.map((a) => a.id)).toEqual([alert.id]);
      expect(await service.history(operator(), alert.id)).toHaveLength(1);
    });

    it('filters and pages by id without skipping or repeating', async () => {
      for (let i = 0; i < 5; i++) await commit([violation().phase('start', 0)]);
      await commit([violation('pedestrian_blocking').phase('start', 0)]);
      const op = operator();
      const first = await service.list(op, { limit: 4 });
      const second = await service.list(op, { limit: 4, after: first.nextCursor! });
      const ids = [...first.items, ...second.items].map((a) => Number(a.id));
      expect(ids).toHaveLength(6);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(second.nextCursor).toBeNull();
      const asc = await service.list(op, { order: 'asc', after: String(ids[3]) });
      expect(asc.items.map((a) => Number(a.id))).toEqual([ids[2], ids[1], ids[0]]);
      expect((await service.list(op, { severity: ['high'] })).items.map((a) => a.kind)).toEqual([
        'pedestrian_blocking',
      ]);
      expect((await service.list(op, { state: ['acknowledged'] })).items).toEqual([]);
      expect((await service.list(op, { to: new Date(Date.now() - 3_600_000) })).items).toEqual([]);
    });
  });
}
