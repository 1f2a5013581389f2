import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const cfg = loadConfig({});
    expect(cfg.database.url).toBeUndefined();
    expect(cfg.mqtt.url).toBeUndefined();
    expect(cfg.http.port).toBe(3000);
    expect(cfg.mqtt.embedded.port).toBe(1884);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).database.url).toBeUndefined();
  });

  it('pushes in process without REDIS_URL, through Redis with one', () => {
    expect(loadConfig({}).push.redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: '' }).push.redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379' }).push.redisUrl).toBe('redis://10.0.0.5:6379');
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).push.redisUrl).toBe('rediss://cache:6380');
  });

  it('coerces numbers', () => {
    expect(loadConfig({ PORT: '8080', INGEST_BATCH_MAX: '500' })).toMatchObject({
      http: { port: 8080 },
      ingest: { batchMax: 500 },
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/vigil'],
    ['MQTT_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['MQTT_CLIENT_ID', 'has/slash'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('does not echo the value of a bad variable (it may be a secret)', () => {
    const secret = 'postgres-but-wrong://admin:hunter2@db';
    let message = '';
    try {
      loadConfig({ DATABASE_URL: secret });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });

  describe('secrets from files (Docker/Compose secrets)', () => {
    let dir: string;
    const secret = (name: string, content: string) => {
      const file = join(dir, name);
      writeFileSync(file, content);
      return file;
    };
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vigil-config-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads MQTT_PASSWORD_FILE without its line end', () => {
      const cfg = loadConfig({ MQTT_PASSWORD_FILE: secret('mqtt', 's3cret\n') });
      expect(cfg.mqtt.password).toBe('s3cret');
    });

    it('puts DATABASE_PASSWORD_FILE into DATABASE_URL so that pg reads it back unchanged', () => {
      const password = 'p@ss:w/rd%41#?';
      const cfg = loadConfig({
        DATABASE_URL: 'postgres://vigil@timescaledb:5432/vigil',
        DATABASE_PASSWORD_FILE: secret('db', `${password}\n`),
      });
      const client = new Client({ connectionString: cfg.database.url });
      expect({ user: client.user, password: client.password, host: client.host, database: client.database }).toEqual({
        user: 'vigil',
        password,
        host: 'timescaledb',
        database: 'vigil',
      });
    });

    it.each([
      ['a missing file', () => ({ MQTT_PASSWORD_FILE: join(dir, 'absent') }), /MQTT_PASSWORD_FILE: cannot read/],
      ['an empty file', () => ({ MQTT_PASSWORD_FILE: secret('empty', '\n') }), /MQTT_PASSWORD_FILE: .* is empty/],
      [
        'both MQTT_PASSWORD and MQTT_PASSWORD_FILE',
        () => ({ MQTT_PASSWORD: 'x', MQTT_PASSWORD_FILE: secret('mqtt', 'y') }),
        /MQTT_PASSWORD_FILE: give MQTT_PASSWORD or MQTT_PASSWORD_FILE, not both/,
      ],
      [
        'a database password file without DATABASE_URL',
        () => ({ DATABASE_PASSWORD_FILE: secret('db', 'x') }),
        /DATABASE_PASSWORD_FILE: needs DATABASE_URL/,
      ],
      [
        'a database password in both places',
        () => ({ DATABASE_URL: 'postgres://u:inline@db/v', DATABASE_PASSWORD_FILE: secret('db', 'x') }),
        /DATABASE_PASSWORD_FILE: DATABASE_URL already has a password/,
      ],
    ])('refuses %s, naming the variable', (_what, env, message) => {
      expect(() => loadConfig(env())).toThrow(ConfigError);
      expect(() => loadConfig(env())).toThrow(message);
    });

    it('never echoes the content of a secret file', () => {
      const env = { MQTT_PASSWORD: 'x', MQTT_PASSWORD_FILE: secret('mqtt', 'hunter2') };
      expect(() => loadConfig(env)).toThrow(/^(?![\s\S]*hunter2)/);
    });
  });

  describe('sign-in settings', () => {
    it('defaults to a generated key, 15-minute access tokens and no first admin', () => {
      expect(loadConfig({}).auth).toEqual({
        jwtSecret: undefined,
        accessTokenTtlS: 900,
        refreshTokenTtlH: 12,
        admin: undefined,
        loginMaxFailuresPerUser: 5,
        loginMaxFailuresPerIp: 20,
      });
    });

    it('refuses a short JWT_SECRET without echoing it', () => {
      expect(() => loadConfig({ JWT_SECRET: 'tooshort-s3cret' })).toThrow(/JWT_SECRET: must be at least 32/);
      expect(() => loadConfig({ JWT_SECRET: 'tooshort-s3cret' })).toThrow(/^(?![\s\S]*tooshort-s3cret)/);
    });

    it('takes the first admin from ADMIN_PASSWORD_FILE, folding the username, and wants both parts', () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-admin-'));
      try {
        writeFileSync(join(dir, 'pw'), 'admin-password-1\n');
        const cfg = loadConfig({ ADMIN_USERNAME: 'Chief', ADMIN_PASSWORD_FILE: join(dir, 'pw') });
        expect(cfg.auth.admin).toEqual({ username: 'chief', password: 'admin-password-1' });
        expect(() => loadConfig({ ADMIN_USERNAME: 'two words', ADMIN_PASSWORD: 'admin-password-1' })).toThrow(
          /ADMIN_USERNAME: must be/,
        );
        expect(() => loadConfig({ ADMIN_USERNAME: 'chief' })).toThrow(/ADMIN_USERNAME: give it together/);
        expect(() => loadConfig({ ADMIN_PASSWORD: 'admin-password-1' })).toThrow(/ADMIN_USERNAME/);
        expect(() => loadConfig({ ADMIN_USERNAME: 'chief', ADMIN_PASSWORD: 'short' })).toThrow(/10-256/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
