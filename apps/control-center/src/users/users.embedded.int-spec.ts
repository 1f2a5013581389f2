import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuthService } from '../auth/auth.service';
import { LoginThrottle } from '../auth/login-throttle';
import { TokenService } from '../auth/token.service';
import { openDatabase } from '../database/database';
import type { Database } from '../database/database.types';
import { RefreshTokenRepository } from './refresh-token.repository';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

jest.setTimeout(120_000);

// The embedded database (PGlite, TimescaleDB flavour) has exactly one connection: every statement set of users and
// sign-in must finish there without waiting for a second one (the first version of `create` deadlocked).
describe('users and sign-in on the embedded database', () => {
  let dataDir: string;
  let db: Database;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-users-embedded-'));
    db = await openDatabase({ dataDir, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates, updates, signs in and rotates refresh tokens', async () => {
    const refreshTokens = new RefreshTokenRepository(db);
    const users = new UsersService(new UserRepository(db), refreshTokens);
    expect(await users.ensureFirstAdmin({ username: 'chief', password: 'chief-password' })).toBe('created');
    expect(await users.ensureFirstAdmin({ username: 'other', password: 'other-password' })).toBe('exists');
    const op = await users.create({
      username: 'op',
      password: 'op-password-1',
      role: 'operator',
      language: 'bg',
      siteIds: ['b', 'a'],
    });
    expect(op).toMatchObject({ username: 'op', siteIds: ['a', 'b'], language: 'bg', allSites: false });
    const changed = await users.update(op.id, { siteIds: ['c'], password: 'op-password-2' });
    expect(changed.siteIds).toEqual(['c']);

    const auth = new AuthService(
      new UserRepository(db),
      refreshTokens,
      new TokenService('embedded-secret-0123456789abcdef01234567', 900, 3_600_000),
      new LoginThrottle(5, 20),
    );
    const session = await auth.login('OP', 'op-password-2', '127.0.0.1');
    expect(session.body.user.username).toBe('op');
    const next = await auth.refresh(session.refreshToken);
    await expect(auth.refresh(session.refreshToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(auth.refresh(next.refreshToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await users.list()).map((u) => u.username)).toEqual(['chief', 'op']);
  });
});
