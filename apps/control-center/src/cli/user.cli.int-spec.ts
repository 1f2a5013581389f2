import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ScratchDatabase } from '../../../../test/support/scratch-database';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..', '..');

// `npm run user -- add …` as a user runs it (tsx, a real PostgreSQL database it migrates itself).
describe('npm run user -- add', () => {
  let db: ScratchDatabase;
  beforeAll(async () => (db = await ScratchDatabase.create('vigil_cli')));
  afterAll(async () => db?.drop());

  const run = (args: string[], input: string, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'apps/control-center/src/cli/user.cli.ts', ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...env },
    });

  it('adds a user with the password from standard input, hashed with argon2id', async () => {
    const res = run(
      ['add', 'Ana', '--role', 'operator', '--sites', 'plaza,harbour', '--language', 'bg'],
      'ana-password-1\n',
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/created operator "ana" .*sites: harbour, plaza/);
    const rows = await db.query<{ role: string; language: string; password_hash: string; sites: string[] }>(
      `SELECT role, language, password_hash, array(SELECT site_id FROM user_sites s WHERE s.user_id = u.id ORDER BY 1) AS sites
         FROM users u WHERE username = 'ana'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: 'operator', language: 'bg', sites: ['harbour', 'plaza'] });
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain('ana-password-1');
  });

  it('refuses a taken username, a bad role and a short password, storing nothing', async () => {
    const taken = run(['add', 'ana', '--role', 'admin'], '', { VIGIL_USER_PASSWORD: 'another-password' });
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/taken/);
    const role = run(['add', 'bob', '--role', 'boss'], 'bob-password-1\n');
    expect(role.status).toBe(64);
    expect(role.stderr).toMatch(/^role: /);
    const short = run(['add', 'bob', '--role', 'auditor'], 'short\n');
    expect(short.status).toBe(64);
    expect(short.stderr).toMatch(/^password: /);
    expect(run(['remove', 'ana'], '').status).toBe(64);
    expect(await db.query(`SELECT 1 FROM users`)).toHaveLength(1);
  });
});
