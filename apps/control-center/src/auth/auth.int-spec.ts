import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { REFRESH_COOKIE } from '@vigil/contracts';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ScratchDatabase } from '../../../../test/support/scratch-database';
import { ADMIN, CentreHarness, JWT_SECRET } from '../testing/centre-harness';
import { listRoutes } from './route-policy.check';

jest.setTimeout(60_000);

/** The refresh cookie's value in a response's Set-Cookie, and the cookie line itself. */
function refreshCookie(res: request.Response): { value: string; line: string } {
  const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = lines.find((l) => l.startsWith(`${REFRESH_COOKIE}=`));
  if (!line) throw new Error(`no refresh cookie in ${JSON.stringify(lines)}`);
  return { value: line.split(';')[0].slice(REFRESH_COOKIE.length + 1), line };
}

// The real module graph (database on the machine's PostgreSQL, MQTT on its Mosquitto) served in-process.
describe('users and sign-in (real AppModule, PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let centre: CentreHarness;
  let app: INestApplication;
  let http: App;
  let adminToken: string;

  const login = (username: string, password: string) =>
    request(http).post('/api/auth/login').send({ username, password });
  const userCount = async () => Number((await scratch.query<{ n: string }>('SELECT count(*) AS n FROM users'))[0].n);

  beforeAll(async () => {
    centre = await CentreHarness.start('auth');
    ({ app, http, scratch } = centre);
    const res = await login(ADMIN.username, ADMIN.password).expect(200);
    adminToken = (res.body as { accessToken: string }).accessToken;
  });

  afterAll(async () => {
    await centre?.close();
  });

  it('gives every route of the application an access policy; health and metrics are public', async () => {
    const routes = listRoutes(app.get(DiscoveryService), app.get(MetadataScanner), app.get(Reflector));
    expect(routes.filter((r) => r.policy === null)).toEqual([]);
    const byPath = new Map(routes.map((r) => [`${r.method} ${r.path}`, r.policy]));
    expect(byPath.get('GET /health/live')).toEqual({ public: true });
    expect(byPath.get('GET /metrics')).toEqual({ public: true });
    expect(byPath.get('POST /api/auth/login')).toEqual({ public: true });
    expect(byPath.get('GET /api/users')).toEqual({ roles: ['admin'] });
    expect(byPath.get('PATCH /api/users/:id')).toEqual({ roles: ['admin'] });
    await request(http).get('/health/live').expect(200);
    await request(http).get('/metrics').expect(200);
  });

  it('signs in: a short-lived bearer token in the body, the refresh token in an httpOnly SameSite=Strict cookie', async () => {
    const res = await login('ROOT', ADMIN.password).expect(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { username: 'root', role: 'admin' } });
    expect(JSON.stringify(res.body)).not.toMatch(/password|hash/i);
    const { line } = refreshCookie(res);
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Strict/i);
    expect(line).toMatch(/Path=\/api\/auth/);
    const me = await request(http)
      .get('/api/me')
      .set('Authorization', `Bearer ${(res.body as { accessToken: string }).accessToken}`)
      .expect(200);
    expect(me.body).toMatchObject({ username: 'root', role: 'admin', allSites: true, language: 'en' });
    // Only the hash of the refresh token is stored.
    const stored = await scratch.query<{ token_hash: Buffer }>('SELECT token_hash FROM refresh_tokens');
    expect(stored.map((r) => r.token_hash.toString('base64url'))).not.toContain(refreshCookie(res).value);
  });

  it('refuses a wrong password and an unknown user alike (401, same words, no cookie)', async () => {
    const tokensBefore = await scratch.query('SELECT 1 FROM refresh_tokens');
    const wrong = await login(ADMIN.username, 'not-the-password').expect(401);
    const unknown = await login('nobody-here', 'not-the-password').expect(401);
    expect(wrong.body).toEqual({ error: 'UNAUTHENTICATED', message: 'invalid username or password' });
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(await scratch.query('SELECT 1 FROM refresh_tokens')).toHaveLength(tokensBefore.length);
  });

  it('refuses missing, garbage, forged and expired access tokens with 401', async () => {
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
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ ...claims, iss: 'vigil-centre', aud: 'vigil-api' }),
    ).toString('base64url')}.`;
    await request(http).get('/api/me').expect(401);
    for (const token of ['garbage', forged, expired, unsigned]) {
      const res = await request(http).get('/api/users').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body).toMatchObject({ error: 'UNAUTHENTICATED' });
    }
  });

  it('lets an admin create a scoped operator, who may not manage users (403)', async () => {
    const created = await request(http)
      .post('/api/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ username: 'Op1', password: 'operator-pass-1', role: 'operator', siteIds: ['site-a', 'site-b'] })
      .expect(201);
    expect(created.body).toMatchObject({ username: 'op1', role: 'operator', siteIds: ['site-a', 'site-b'] });
    const op = await login('op1', 'operator-pass-1').expect(200);
    const opToken = (op.body as { accessToken: string }).accessToken;
    const me = await request(http).get('/api/me').set('Authorization', `Bearer ${opToken}`).expect(200);
    expect(me.body).toMatchObject({ role: 'operator', allSites: false, siteIds: ['site-a', 'site-b'] });
    const refused = await request(http).get('/api/users').set('Authorization', `Bearer ${opToken}`).expect(403);
    expect(refused.body).toMatchObject({ error: 'FORBIDDEN' });
    await request(http)
      .post('/api/users')
      .set('Authorization', `Bearer ${opToken}`)
      .send({ username: 'sneaky', password: 'operator-pass-1', role: 'admin' })
      .expect(403);
    expect((await scratch.query('SELECT 1 FROM users WHERE username = $1', ['sneaky'])).length).toBe(0);
    const list = await request(http).get('/api/users').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect((list.body as { items: { username: string }[] }).items.map((u) => u.username)).toEqual(['op1', 'root']);
  });

  it('refuses unknown fields, oversize and NUL values with 400 VALIDATION_FAILED naming the field, storing nothing', async () => {
    const before = await userCount();
    const post = (body: object) =>
      request(http).post('/api/users').set('Authorization', `Bearer ${adminToken}`).send(body).expect(400);
    const base = { username: 'newbie', password: 'newbie-pass-1', role: 'operator' };
    const cases: [object, string][] = [
      [{ ...base, isSuperuser: true }, ''],
      [{ ...base, displayName: 'x'.repeat(129) }, 'displayName'],
      [{ ...base, displayName: 'bad\u0000name' }, 'displayName'],
      [{ ...base, role: 'root' }, 'role'],
      [{ ...base, siteIds: ['a/b'] }, 'siteIds.0'],
      [{ ...base, password: 'short' }, 'password'],
    ];
    for (const [body, path] of cases) {
      const res = await post(body);
      expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED' });
      const details = (res.body as { details: { path: string; message: string }[] }).details;
      if (path) expect(details.map((d) => d.path)).toContain(path);
      else expect(JSON.stringify(details)).toContain('isSuperuser');
    }
    const oversize = await login('root', 'p'.repeat(300)).expect(400);
    expect((oversize.body as { details: { path: string }[] }).details.map((d) => d.path)).toEqual(['password']);
    const extra = await request(http)
      .post('/api/auth/login')
      .send({ ...ADMIN, remember: true })
      .expect(400);
    expect(JSON.stringify(extra.body)).toContain('remember');
    const huge = await request(http)
      .post('/api/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ ...base, displayName: 'x'.repeat(200_000) })
      .expect(413);
    expect(huge.body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
    expect(await userCount()).toBe(before);
  });

  it('rotates the refresh token; a reused one is refused and ends its whole family', async () => {
    const first = refreshCookie(await login(ADMIN.username, ADMIN.password).expect(200)).value;
    const rotated = await request(http)
      .post('/api/auth/refresh')
      .set('Cookie', `${REFRESH_COOKIE}=${first}`)
      .expect(200);
    expect(rotated.body).toMatchObject({ tokenType: 'Bearer', user: { username: 'root' } });
    const second = refreshCookie(rotated).value;
    expect(second).not.toBe(first);
    // The old one again: a stolen copy. Refused, and the session it belongs to ends.
    await request(http).post('/api/auth/refresh').set('Cookie', `${REFRESH_COOKIE}=${first}`).expect(401);
    await request(http).post('/api/auth/refresh').set('Cookie', `${REFRESH_COOKIE}=${second}`).expect(401);
    await request(http).post('/api/auth/refresh').expect(401);
  });

  it('logs out: the refresh token no longer works', async () => {
    const token = refreshCookie(await login(ADMIN.username, ADMIN.password).expect(200)).value;
    await request(http).post('/api/auth/logout').set('Cookie', `${REFRESH_COOKIE}=${token}`).expect(204);
    await request(http).post('/api/auth/refresh').set('Cookie', `${REFRESH_COOKIE}=${token}`).expect(401);
  });

  it('throttles failed logins per username: the sixth try is 429 with Retry-After, even with the right password', async () => {
    await request(http)
      .post('/api/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ username: 'victim', password: 'victim-pass-1', role: 'auditor' })
      .expect(201);
    for (let i = 0; i < 5; i++) await login('victim', `wrong-${i}-password`).expect(401);
    const res = await login('victim', 'victim-pass-1').expect(429);
    expect(res.body).toMatchObject({ error: 'RATE_LIMITED' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(900);
    // Another user from the same address is not locked out by it.
    await login(ADMIN.username, ADMIN.password).expect(200);
  });

  it('lets an admin change role, sites, language; disabling ends sessions; the last admin stays', async () => {
    const { body: user } = await request(http)
      .post('/api/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ username: 'analyst', password: 'analyst-pass-1', role: 'traffic_analyst', siteIds: ['s1'] })
      .expect(201);
    const id = (user as { id: string }).id;
    const patch = (body: object) =>
      request(http).patch(`/api/users/${id}`).set('Authorization', `Bearer ${adminToken}`).send(body);
    const changed = await patch({ language: 'bg', siteIds: ['s2', 's3'], role: 'operator' }).expect(200);
    expect(changed.body).toMatchObject({ language: 'bg', siteIds: ['s2', 's3'], role: 'operator' });
    const cookie = refreshCookie(await login('analyst', 'analyst-pass-1').expect(200)).value;
    await patch({ disabled: true }).expect(200);
    await request(http).post('/api/auth/refresh').set('Cookie', `${REFRESH_COOKIE}=${cookie}`).expect(401);
    await login('analyst', 'analyst-pass-1').expect(401);
    await patch({}).expect(400);
    await request(http)
      .patch(`/api/users/${randomUUID()}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ language: 'en' })
      .expect(404);
    await request(http)
      .patch('/api/users/not-a-uuid')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ language: 'en' })
      .expect(400);
    const rootId = (await scratch.query<{ id: string }>(`SELECT id FROM users WHERE username = 'root'`))[0].id;
    const last = await request(http)
      .patch(`/api/users/${rootId}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ role: 'operator' })
      .expect(409);
    expect(last.body).toMatchObject({ error: 'CONFLICT' });
  });
});
