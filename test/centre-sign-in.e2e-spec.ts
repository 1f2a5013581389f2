import { REFRESH_COOKIE } from '@vigil/contracts';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';

jest.setTimeout(180_000);

// The real centre process (under tsx, as `npm start` runs it: no decorator metadata), on PostgreSQL: the first
// admin from ADMIN_PASSWORD_FILE, sign-in, and a generated signing key kept in DATA_DIR so a restart keeps sessions.
describe('centre sign-in (real process)', () => {
  let db: ScratchDatabase;
  let dataDir: string;
  let centre: CentreProcess | undefined;

  beforeAll(async () => {
    db = await ScratchDatabase.create('vigil_signin');
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-signin-'));
    writeFileSync(join(dataDir, 'admin.password'), 'first-admin-pass\n');
  });

  afterAll(async () => {
    await centre?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the first admin from configuration, signs in, and keeps sessions across a restart', async () => {
    centre = await CentreProcess.startOnSharedBroker({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      ADMIN_USERNAME: 'Chief',
      ADMIN_PASSWORD_FILE: join(dataDir, 'admin.password'),
    });
    const url = (path: string) => `${centre!.baseUrl}${path}`;
    expect((await fetch(url('/health/live'))).status).toBe(200);
    expect((await fetch(url('/metrics'))).status).toBe(200);
    expect((await fetch(url('/api/me'))).status).toBe(401);

    const login = await fetch(url('/api/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'chief', password: 'first-admin-pass' }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${REFRESH_COOKIE}=`))!
      .split(';')[0];
    const me = async (token: string) =>
      fetch(url('/api/me'), { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { username?: string; role?: string },
      }));
    expect(await me(accessToken)).toMatchObject({ status: 200, body: { username: 'chief', role: 'admin' } });
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(true);

    await centre.stop();
    await centre.start();
    // Same key after the restart: the access token still holds, the refresh cookie still rotates.
    expect(await me(accessToken)).toMatchObject({ status: 200, body: { username: 'chief' } });
    const refreshed = await fetch(url('/api/auth/refresh'), { method: 'POST', headers: { cookie } });
    expect(refreshed.status).toBe(200);
    const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE role = 'admin'`);
    expect(rows[0].n).toBe('1'); // the restart did not create a second admin
  });
});
