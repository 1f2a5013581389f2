import { JwtService } from '@nestjs/jwt';
import {
  VIOLATION_EXPORT_COLUMNS,
  type Alert,
  type AlertDetail,
  type DetectionEvent,
  type Page,
  type ViolationExportRow,
} from '@vigil/contracts';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { IngestItem } from '../database/repositories/ingest.repository';
import { eventItems, fixtureItems } from '../database/testing/ingest-items';
import { CentreHarness, JWT_SECRET } from '../testing/centre-harness';

jest.setTimeout(90_000);

const SITE_A = 'site-a';
const SITE_B = 'site-b';

/** A violation's first message (`start`) on a site, as the edge sends it. */
function violationStart(siteId: string, kind: DetectionEvent['kind'] = 'parking_violation'): IngestItem {
  const [base] = eventItems(1, { siteId });
  const m = base.message as DetectionEvent;
  const ts = new Date(Date.now() - 60_000).toISOString();
  const message: DetectionEvent = {
    ...m,
    kind,
    eventId: randomUUID(),
    phase: 'start',
    ts,
    startedAt: ts,
    endedAt: null,
    endReason: null,
    dwellSeconds: 0,
    pedestriansPresent: kind === 'pedestrian_blocking' ? 1 : null,
  };
  return { ...base, message, receivedAt: new Date() };
}

// The alert routes through the real AppModule (guard, pipes, filter, service, PostgreSQL).
describe('alert routes (real AppModule, PostgreSQL)', () => {
  let c: CentreHarness;
  const tokens: Record<string, string> = {};
  let alertA: Alert;
  let alertB: Alert;

  const auth = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });
  const get = (path: string, who: string) => request(c.http).get(path).set(auth(who));
  const post = (path: string, who: string, body: object) => request(c.http).post(path).set(auth(who)).send(body);
  const historyRows = async (id: string) =>
    (await c.scratch.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_history WHERE alert_id = $1', [id]))[0]
      .n;

  async function newAlert(siteId: string, kind: DetectionEvent['kind'] = 'parking_violation'): Promise<Alert> {
    const item = violationStart(siteId, kind);
    await c.commit([item]);
    const rows = await c.scratch.query<{ id: string }>('SELECT id::text FROM alerts WHERE source = $1', [
      (item.message as DetectionEvent).eventId,
    ]);
    const res = await get(`/api/alerts/${rows[0].id}`, 'admin').expect(200);
    return res.body as Alert;
  }

  beforeAll(async () => {
    c = await CentreHarness.start('alerts');
    tokens.admin = await c.userToken('admin', [], 'boss');
    tokens.operator = await c.userToken('operator', [SITE_A]);
    tokens.operatorB = await c.userToken('operator', [SITE_B]);
    tokens.auditor = await c.userToken('auditor');
    tokens.analyst = await c.userToken('traffic_analyst', [SITE_A]);
    alertA = await newAlert(SITE_A);
    alertB = await newAlert(SITE_B);
  });

  afterAll(async () => {
    await c?.close();
  });

  describe('role matrix', () => {
    const reads = (id: () => string) => [
      ['GET', () => '/api/alerts', undefined],
      ['GET', () => `/api/alerts/${id()}`, undefined],
    ];
    const acts = (id: () => string) => [
      ['POST', () => `/api/alerts/${id()}/transitions`, { action: 'acknowledge', expectedVersion: 999 }],
      ['POST', () => `/api/alerts/${id()}/notes`, { note: 'looked at it' }],
      ['POST', () => `/api/alerts/${id()}/assign`, { assignee: 'someone', expectedVersion: 999 }],
      ['POST', () => `/api/alerts/${id()}/confirm`, { expectedVersion: 999 }],
    ];
    type Row = [string, () => string, object | undefined];
    const send = (method: string, path: string, body: object | undefined, who: string | null) => {
      const r = method === 'GET' ? request(c.http).get(path) : request(c.http).post(path).send(body);
      return who ? r.set(auth(who)) : r;
    };

    it.each([
      ['admin', 200, 200],
      ['operator', 200, 200],
      ['auditor', 200, 403],
      ['analyst', 403, 403],
      [null, 401, 401],
    ] as const)('%s: reads %d, acts %d (a stale version is 409 for those who may act)', async (who, read, act) => {
      for (const [method, path, body] of reads(() => alertA.id) as Row[]) {
        const res = await send(method, path(), body, who);
        expect([res.status, method, path()]).toEqual([read, method, path()]);
      }
      for (const [method, path, body] of acts(() => alertA.id) as Row[]) {
        const res = await send(method, path(), body, who);
        // Notes never conflict; the version-checked actions answer 409 for a stale version once past the guard.
        const expected = act === 200 ? (path().endsWith('/notes') ? 200 : 409) : act;
        expect([res.status, method, path()]).toEqual([expected, method, path()]);
      }
    });
  });

  describe('site scope', () => {
    it("lists only the caller's sites and answers 404 for another site's alert, by id and for every action", async () => {
      const page = (await get('/api/alerts?limit=500', 'operator').expect(200)).body as Page<Alert>;
      expect(page.items.map((a) => a.siteId)).toEqual(page.items.map(() => SITE_A));
      expect(page.items.map((a) => a.id)).toContain(alertA.id);
      expect(page.items.map((a) => a.id)).not.toContain(alertB.id);
      const onlyB = (await get(`/api/alerts?siteId=${SITE_B}`, 'operator').expect(200)).body as Page<Alert>;
      expect(onlyB.items).toEqual([]);
      const before = await historyRows(alertB.id);
      await get(`/api/alerts/${alertB.id}`, 'operator').expect(404);
      await get('/api/alerts/999999999', 'operator').expect(404);
      await post(`/api/alerts/${alertB.id}/transitions`, 'operator', {
        action: 'acknowledge',
        expectedVersion: 1,
      }).expect(404);
      await post(`/api/alerts/${alertB.id}/notes`, 'operator', { note: 'not mine' }).expect(404);
      await post(`/api/alerts/${alertB.id}/assign`, 'operator', { assignee: 'x', expectedVersion: 1 }).expect(404);
      await post(`/api/alerts/${alertB.id}/confirm`, 'operator', { expectedVersion: 1 }).expect(404);
      expect(await historyRows(alertB.id)).toBe(before);
      await get(`/api/alerts/${alertB.id}`, 'operatorB').expect(200);
    });
  });

  describe('filters and cursor pages', () => {
    it('filters by site, kind, state and severity, and pages by id in both orders', async () => {
      const site = `site-${randomUUID().slice(0, 6)}`;
      const made: Alert[] = [];
      for (let i = 0; i < 5; i++) made.push(await newAlert(site));
      const blocking = await newAlert(site, 'pedestrian_blocking');
      const ids = made.map((a) => a.id);
      const p1 = (await get(`/api/alerts?siteId=${site}&kind=parking_violation&limit=2`, 'admin').expect(200))
        .body as Page<Alert>;
      expect(p1.items.map((a) => a.id)).toEqual([ids[4], ids[3]]);
      expect(p1.nextCursor).toBe(ids[3]);
      const p2 = (
        await get(`/api/alerts?siteId=${site}&kind=parking_violation&limit=2&after=${p1.nextCursor}`, 'admin').expect(
          200,
        )
      ).body as Page<Alert>;
      expect(p2.items.map((a) => a.id)).toEqual([ids[2], ids[1]]);
      const asc = (await get(`/api/alerts?siteId=${site}&order=asc&after=${ids[2]}`, 'admin').expect(200))
        .body as Page<Alert>;
      expect(asc.items.map((a) => a.id)).toEqual([ids[3], ids[4], blocking.id]);
      const high = (await get(`/api/alerts?siteId=${site}&severity=high`, 'admin').expect(200)).body as Page<Alert>;
      expect(high.items.map((a) => a.id)).toEqual([blocking.id]);
      await post(`/api/alerts/${ids[0]}/transitions`, 'admin', { action: 'acknowledge', expectedVersion: 1 }).expect(
        200,
      );
      const acked = (await get(`/api/alerts?siteId=${site}&state=acknowledged&state=in_progress`, 'admin').expect(200))
        .body as Page<Alert>;
      expect(acked.items.map((a) => a.id)).toEqual([ids[0]]);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const none = (await get(`/api/alerts?siteId=${site}&from=${future}`, 'admin').expect(200)).body as Page<Alert>;
      expect(none.items).toEqual([]);
    });

    it('refuses bad filters naming the field', async () => {
      const res = await get('/api/alerts?state=bogus&limit=9999', 'admin').expect(400);
      expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED' });
      expect(JSON.stringify(res.body)).toMatch(/state/);
      expect(JSON.stringify(res.body)).toMatch(/limit/);
      await get('/api/alerts?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'admin').expect(400);
    });
  });

  describe('workflow', () => {
    it('walks new -> acknowledged -> in_progress -> resolved; an illegal step is 409 naming the state', async () => {
      const a = await newAlert(SITE_A);
      const step = (action: string, expectedVersion: number) =>
        post(`/api/alerts/${a.id}/transitions`, 'operator', { action, expectedVersion });
      const illegal = await step('resolve', 1).expect(409);
      expect(illegal.body).toMatchObject({ error: 'CONFLICT' });
      expect((illegal.body as { message: string }).message).toMatch(/new/);
      expect((await step('acknowledge', 1).expect(200)).body).toMatchObject({ state: 'acknowledged', version: 2 });
      const stale = await step('start', 1).expect(409);
      expect((stale.body as { message: string }).message).toMatch(/version 2/);
      await step('start', 2).expect(200);
      await post(`/api/alerts/${a.id}/notes`, 'operator', { note: 'towing requested' }).expect(200);
      await post(`/api/alerts/${a.id}/assign`, 'operator', { assignee: 'op-x', expectedVersion: 3 }).expect(200);
      await step('resolve', 4).expect(200);
      const detail = (await get(`/api/alerts/${a.id}`, 'auditor').expect(200)).body as AlertDetail;
      expect(detail).toMatchObject({ state: 'resolved', assignee: 'op-x', version: 5 });
      expect(detail.history.map((h) => h.action)).toEqual([
        'created',
        'acknowledge',
        'start',
        'note',
        'assign',
        'resolve',
      ]);
      expect(detail.history.find((h) => h.action === 'note')?.note).toBe('towing requested');
    });

    it('of two concurrent transitions on one version, exactly one wins and the other is 409', async () => {
      const a = await newAlert(SITE_A);
      const both = await Promise.all([
        post(`/api/alerts/${a.id}/transitions`, 'operator', { action: 'acknowledge', expectedVersion: 1 }),
        post(`/api/alerts/${a.id}/transitions`, 'admin', { action: 'acknowledge', expectedVersion: 1 }),
      ]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await historyRows(a.id)).toBe(2);
    });

    it('confirms a parking violation once, naming the operator; a confirmed one cannot be a false positive', async () => {
      const a = await newAlert(SITE_A);
      const res = await post(`/api/alerts/${a.id}/confirm`, 'operator', { expectedVersion: 1 }).expect(200);
      expect((res.body as Alert).confirmedBy).toMatch(/^operator-/);
      expect((res.body as Alert).confirmedAt).not.toBeNull();
      await post(`/api/alerts/${a.id}/confirm`, 'operator', { expectedVersion: 2 }).expect(409);
      const blocking = await newAlert(SITE_A, 'pedestrian_blocking');
      const refused = await post(`/api/alerts/${blocking.id}/confirm`, 'operator', { expectedVersion: 1 }).expect(409);
      expect((refused.body as { message: string }).message).toMatch(/only parking violations/);
    });
  });

  describe('bad input', () => {
    it('answers 4xx naming the problem and stores nothing', async () => {
      const a = await newAlert(SITE_A);
      const before = await historyRows(a.id);
      const cases: [string, object, number, RegExp][] = [
        ['transitions', { action: 'fly', expectedVersion: 1 }, 400, /action/],
        ['transitions', { action: 'acknowledge', expectedVersion: 1, extra: true }, 400, /extra/],
        ['transitions', { action: 'acknowledge' }, 400, /expectedVersion/],
        ['transitions', { action: 'acknowledge', expectedVersion: '1' }, 400, /expectedVersion/],
        ['notes', { note: 'x'.repeat(2001) }, 400, /note/],
        ['notes', { note: '   ' }, 400, /note/],
        ['assign', { assignee: 'x', expectedVersion: 0 }, 400, /expectedVersion/],
        ['confirm', {}, 400, /expectedVersion/],
      ];
      for (const [route, body, status, names] of cases) {
        const res = await post(`/api/alerts/${a.id}/${route}`, 'operator', body);
        expect([route, res.status]).toEqual([route, status]);
        expect(JSON.stringify(res.body)).toMatch(names);
      }
      const malformed = await request(c.http)
        .post(`/api/alerts/${a.id}/notes`)
        .set(auth('operator'))
        .set('Content-Type', 'application/json')
        .send('{"note": ');
      expect(malformed.status).toBe(400);
      for (const id of ['abc', '-1', '0x10', '1.5', '99999999999999999999']) {
        const res = await get(`/api/alerts/${id}`, 'operator').expect(400);
        expect(JSON.stringify(res.body)).toMatch(/id/);
      }
      await post(`/api/alerts/abc/notes`, 'operator', { note: 'x' }).expect(400);
      expect(await historyRows(a.id)).toBe(before);
    });

    it('refuses forged and expired tokens with 401 and stores nothing', async () => {
      const a = await newAlert(SITE_A);
      const claims = { sub: randomUUID(), username: 'root', role: 'admin', sites: [] };
      const forged = new JwtService({ secret: 'another-secret-0123456789abcdef0123456789' }).sign(claims, {
        issuer: 'vigil-centre',
        audience: 'vigil-api',
        expiresIn: 900,
      });
      const expired = new JwtService({ secret: JWT_SECRET }).sign(
        { ...claims, exp: Math.floor(Date.now() / 1000) - 60 },
        { issuer: 'vigil-centre', audience: 'vigil-api' },
      );
      for (const token of [forged, expired, 'garbage']) {
        await request(c.http).get('/api/alerts').set('Authorization', `Bearer ${token}`).expect(401);
        await request(c.http)
          .post(`/api/alerts/${a.id}/notes`)
          .set('Authorization', `Bearer ${token}`)
          .send({ note: 'x' })
          .expect(401);
      }
      expect(await historyRows(a.id)).toBe(1);
    });
  });

  describe('export of confirmed violations', () => {
    // The golden fixtures: a parking violation on rome-centro whose start carried evidence, and a pedestrian blocking.
    const EVIDENCE_SHA = '26584e51496189bafbc7cb13868de3082de9206ec42d67a7f0165e0526d9e3ee';
    let confirmed: Alert;
    let confirmedA: Alert;
    let unconfirmed: Alert;

    beforeAll(async () => {
      await c.commit(fixtureItems());
      const page = (await get('/api/alerts?siteId=rome-centro&kind=parking_violation', 'admin').expect(200))
        .body as Page<Alert>;
      confirmed = page.items[0];
      await post(`/api/alerts/${confirmed.id}/confirm`, 'admin', { expectedVersion: confirmed.version }).expect(200);
      // An unconfirmed violation on the same site must stay out of the export; a confirmed one on site-a is in it.
      unconfirmed = await newAlert('rome-centro');
      confirmedA = await newAlert(SITE_A);
      await post(`/api/alerts/${confirmedA.id}/confirm`, 'operator', { expectedVersion: 1 }).expect(200);
    });

    it('exports only confirmed parking violations with evidence sha256, operator, time and model (JSON)', async () => {
      const res = await get('/api/alerts/export?format=json&siteId=rome-centro', 'auditor').expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const rows = JSON.parse(res.text) as ViolationExportRow[];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        alertId: confirmed.id,
        siteId: 'rome-centro',
        eventId: '9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
        confirmedBy: 'boss',
        evidenceId: '1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b',
        evidenceSha256: EVIDENCE_SHA,
      });
      expect(rows[0].modelId).toEqual(expect.any(String));
      expect(rows[0].modelSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Date.parse(rows[0].confirmedAt)).not.toBeNaN();
      const all = JSON.parse(
        (await get('/api/alerts/export?format=json', 'admin').expect(200)).text,
      ) as ViolationExportRow[];
      const ids = all.map((r) => r.alertId);
      expect(ids).toEqual(expect.arrayContaining([confirmed.id, confirmedA.id]));
      expect(ids).not.toContain(unconfirmed.id);
      expect(all.every((r) => r.confirmedBy !== null && r.confirmedAt !== null)).toBe(true);
      expect(ids).toEqual([...ids].sort((a, b) => Number(a) - Number(b)));
      // The time range applies to when the violation began.
      const opened = Date.parse(rows[0].openedAt);
      const around = (fromMs: number, toMs: number) =>
        get(
          `/api/alerts/export?format=json&siteId=rome-centro&from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`,
          'admin',
        ).expect(200);
      expect(JSON.parse((await around(opened - 1000, opened + 1000)).text)).toHaveLength(1);
      expect(JSON.parse((await around(opened + 1, opened + 60_000)).text)).toEqual([]);
    });

    it('keeps the evidence of a confirmed violation past image retention', async () => {
      const [image] = await c.scratch.query<{ keep: boolean; keep_reason: string }>(
        'SELECT keep, keep_reason FROM evidence_images WHERE evidence_id = $1',
        ['1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b'],
      );
      // Both confirmed alerts of this test carry the fixture's evidence id: the latest confirmation names itself.
      expect(image.keep).toBe(true);
      expect([`confirmed violation (alert ${confirmed.id})`, `confirmed violation (alert ${confirmedA.id})`]).toContain(
        image.keep_reason,
      );
    });

    it("streams CSV with the documented columns, and scopes it to the caller's sites", async () => {
      const res = await get('/api/alerts/export?format=csv&siteId=rome-centro', 'operator').expect(200);
      // An operator of site-a sees none of rome-centro's: only the header.
      expect(res.text).toBe(`${VIOLATION_EXPORT_COLUMNS.join(',')}\r\n`);
      const admin = await get('/api/alerts/export?siteId=rome-centro', 'admin').expect(200);
      expect(admin.headers['content-type']).toMatch(/^text\/csv/);
      const lines = admin.text.trimEnd().split('\r\n');
      expect(lines).toHaveLength(2);
      const cells = lines[1].split(',');
      const col = (name: string) => cells[VIOLATION_EXPORT_COLUMNS.indexOf(name as keyof ViolationExportRow)];
      expect(col('evidenceSha256')).toBe(EVIDENCE_SHA);
      expect(col('confirmedBy')).toBe('boss');
    });

    it('is refused to traffic analysts and anonymous callers, and bad queries name the field', async () => {
      await get('/api/alerts/export', 'analyst').expect(403);
      await request(c.http).get('/api/alerts/export').expect(401);
      const bad = await get('/api/alerts/export?format=xml&extra=1', 'admin').expect(400);
      expect(JSON.stringify(bad.body)).toMatch(/format/);
      expect(JSON.stringify(bad.body)).toMatch(/extra/);
    });
  });

  describe('evidence images', () => {
    const EVIDENCE_ID = '1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b';
    const views = () =>
      c.scratch.query<{ username: string; role: string; site_id: string; client_ip: string; user_agent: string }>(
        'SELECT username, role, site_id, client_ip, user_agent FROM evidence_views WHERE evidence_id = $1 ORDER BY id',
        [EVIDENCE_ID],
      );

    beforeAll(async () => {
      await c.commit(fixtureItems()); // idempotent: the same messages are stored once
      tokens.operatorRome = await c.userToken('operator', ['rome-centro'], 'op-rome');
    });

    it('serves the stored masked JPEG, not cached, and records who viewed it, when and from where', async () => {
      const res = await request(c.http)
        .get(`/api/evidence/${EVIDENCE_ID}`)
        .set(auth('operatorRome'))
        .set('User-Agent', 'console-test')
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^image\/jpeg/);
      expect(res.headers['cache-control']).toBe('no-store');
      const stored = await c.scratch.query<{ image: Buffer }>(
        'SELECT image FROM evidence_images WHERE evidence_id = $1',
        [EVIDENCE_ID],
      );
      expect(Buffer.compare(res.body as Buffer, stored[0].image)).toBe(0);
      expect((res.body as Buffer).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      await get(`/api/evidence/${EVIDENCE_ID}`, 'auditor').expect(200);
      const rows = await views();
      expect(rows).toEqual([
        {
          username: 'op-rome',
          role: 'operator',
          site_id: 'rome-centro',
          client_ip: expect.any(String),
          user_agent: 'console-test',
        },
        expect.objectContaining({ role: 'auditor', site_id: 'rome-centro' }),
      ]);
      expect(rows[0].client_ip).toMatch(/127\.0\.0\.1|::1/);
    });

    it('is 404 for another site and an unknown id, 403 for analysts, 401 anonymous, 400 for a bad id; none recorded', async () => {
      const before = (await views()).length;
      await get(`/api/evidence/${EVIDENCE_ID}`, 'operator').expect(404);
      await get(`/api/evidence/${randomUUID()}`, 'admin').expect(404);
      await get(`/api/evidence/${EVIDENCE_ID}`, 'analyst').expect(403);
      await request(c.http).get(`/api/evidence/${EVIDENCE_ID}`).expect(401);
      const bad = await get('/api/evidence/not-a-uuid', 'admin').expect(400);
      expect(JSON.stringify(bad.body)).toMatch(/evidenceId/);
      expect(await views()).toHaveLength(before);
    });
  });
});
