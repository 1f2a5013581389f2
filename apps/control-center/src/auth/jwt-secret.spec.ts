import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { JWT_SECRET_FILE, resolveJwtSecret } from './jwt-secret';

describe('resolveJwtSecret', () => {
  const logger = pino({ level: 'silent' });
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-jwt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses JWT_SECRET when set and writes nothing', () => {
    const configured = 'x'.repeat(40);
    expect(resolveJwtSecret(configured, dir, logger)).toBe(configured);
    expect(() => statSync(join(dir, JWT_SECRET_FILE))).toThrow();
  });

  it('generates one, keeps it (mode 0600) and reuses it on the next start', () => {
    const first = resolveJwtSecret(undefined, join(dir, 'data'), logger);
    expect(first.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, 'data', JWT_SECRET_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(resolveJwtSecret(undefined, join(dir, 'data'), logger)).toBe(first);
  });
});
