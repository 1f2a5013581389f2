import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { UsernameSchema } from '@vigil/contracts';
import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalUrl = (protocols: RegExp, example: string) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional()
    .refine((v) => v === undefined || (URL.canParse(v) && protocols.test(new URL(v).protocol)), {
      message: `must be a URL like ${example}`,
    });

/** Every environment variable the centre reads: validated once at start-up; the process refuses bad config. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL or TimescaleDB server; absent = embedded PGlite with TimescaleDB under DATA_DIR. */
  DATABASE_URL: optionalUrl(/^postgres(ql)?:$/, 'postgres://user@host:5432/vigil'),
  /** File holding the database password (a Docker/Compose secret), put into DATABASE_URL. */
  DATABASE_PASSWORD_FILE: optionalPath(),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Local port of the embedded database's socket (0 = any free port). */
  EMBEDDED_DB_PORT: port(0),
  /** External broker (Mosquitto); absent = embedded broker on MQTT_EMBEDDED_PORT. */
  MQTT_URL: optionalUrl(/^(mqtts?|tcp|ssl|wss?):$/, 'mqtt://127.0.0.1:1883'),
  MQTT_EMBEDDED_PORT: port(1884),
  MQTT_EMBEDDED_HOST: z.string().min(1).default('127.0.0.1'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  /** File holding the broker password (a Docker/Compose secret), instead of MQTT_PASSWORD. */
  MQTT_PASSWORD_FILE: optionalPath(),
  /** Stable client id so the broker keeps this instance's persistent session across restarts. */
  MQTT_CLIENT_ID: IdLike().default(`vigil-centre-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}`),
  /** Shared-subscription group (external broker only) so several centre instances split the load. */
  MQTT_SHARE_GROUP: IdLike().default('vigil-centre'),
  INGEST_BATCH_MAX: z.coerce.number().int().min(1).max(50_000).default(2000),
  INGEST_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(5000).default(20),
  /** Messages buffered in memory before the MQTT client is paused (backpressure during a database outage). */
  INGEST_QUEUE_MAX: z.coerce.number().int().min(1000).max(1_000_000).default(100_000),
  INGEST_COMMIT_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(2),
  /** A sequence hole older than this triggers a replay request to the edge. */
  INGEST_GAP_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(3000),
  DEAD_LETTER_MAX_ROWS: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  MAINTENANCE_INTERVAL_S: z.coerce.number().int().min(5).max(86_400).default(60),
  /** A camera stalled or failed this long (by its own status times) raises a camera-down alert. */
  ALERT_CAMERA_DOWN_AFTER_S: z.coerce.number().int().min(0).max(86_400).default(60),
  /** Outbox evictions or delivery losses within this time of the previous one join the same alert. */
  ALERT_OCCURRENCE_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(600),
  /**
   * Signing key of access tokens (HS256), at least 32 characters. Absent: one is generated and kept in
   * DATA_DIR/jwt-secret, so restarts keep sessions (several replicas must share one: set it).
   */
  JWT_SECRET: optionalPath().refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  /**
   * Redis shared by every centre replica (socket.io's Redis adapter), so a push reaches consoles connected to any
   * replica; absent = pushes stay in this process (one replica).
   */
  REDIS_URL: optionalUrl(/^rediss?:$/, 'redis://127.0.0.1:6379'),
  /** Lifetime of an access token (seconds) and of a refresh token (hours). */
  ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_H: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(12),
  /** First admin, created at start-up only when no admin exists (password from ADMIN_PASSWORD or its file). */
  ADMIN_USERNAME: optionalPath().refine(
    (v) => v === undefined || UsernameSchema.safeParse(v).success,
    'must be 1-64 letters, digits, ".", "_", "-" or "@"',
  ),
  ADMIN_PASSWORD: z.string().optional(),
  ADMIN_PASSWORD_FILE: optionalPath(),
  /** Failed logins per username and per client address within 15 minutes before further tries get 429. */
  LOGIN_MAX_FAILURES_PER_USER: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(10_000).default(20),
});

function optionalPath() {
  return z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional();
}

function IdLike() {
  return z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');
}

export type Env = z.infer<typeof EnvSchema>;

export interface AppConfig {
  env: Env['NODE_ENV'];
  http: { host: string; port: number };
  logLevel: Env['LOG_LEVEL'];
  database: { url: string | undefined; dataDir: string; embeddedPort: number };
  mqtt: {
    url: string | undefined;
    embedded: { host: string; port: number };
    username: string | undefined;
    password: string | undefined;
    clientId: string;
    shareGroup: string;
  };
  ingest: {
    batchMax: number;
    batchWaitMs: number;
    queueMax: number;
    gapGraceMs: number;
    deadLetterMaxRows: number;
    commitConcurrency: number;
  };
  maintenanceIntervalS: number;
  alerts: { cameraDownAfterS: number; occurrenceWindowS: number };
  /** WebSocket push: Redis for fan-out across replicas (undefined = in process). */
  push: { redisUrl: string | undefined };
  auth: {
    /** Undefined: generated and persisted under the data dir (see auth/jwt-secret.ts). */
    jwtSecret: string | undefined;
    accessTokenTtlS: number;
    refreshTokenTtlH: number;
    admin: { username: string; password: string } | undefined;
    loginMaxFailuresPerUser: number;
    loginMaxFailuresPerIp: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable (never echoing secret values). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration, refusing to start:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const databaseUrl = withDatabasePassword(e.DATABASE_URL, e.DATABASE_PASSWORD_FILE, problems);
  let mqttPassword = e.MQTT_PASSWORD;
  if (e.MQTT_PASSWORD_FILE !== undefined) {
    if (mqttPassword !== undefined)
      problems.push('MQTT_PASSWORD_FILE: give MQTT_PASSWORD or MQTT_PASSWORD_FILE, not both');
    else mqttPassword = readSecretFile('MQTT_PASSWORD_FILE', e.MQTT_PASSWORD_FILE, problems);
  }
  let adminPassword = e.ADMIN_PASSWORD;
  if (e.ADMIN_PASSWORD_FILE !== undefined) {
    if (adminPassword !== undefined)
      problems.push('ADMIN_PASSWORD_FILE: give ADMIN_PASSWORD or ADMIN_PASSWORD_FILE, not both');
    else adminPassword = readSecretFile('ADMIN_PASSWORD_FILE', e.ADMIN_PASSWORD_FILE, problems);
  }
  if ((e.ADMIN_USERNAME === undefined) !== (adminPassword === undefined))
    problems.push('ADMIN_USERNAME: give it together with ADMIN_PASSWORD or ADMIN_PASSWORD_FILE');
  if (adminPassword !== undefined && (adminPassword.length < 10 || adminPassword.length > 256))
    problems.push('ADMIN_PASSWORD: must be 10-256 characters');
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration, refusing to start:\n  ${problems.join('\n  ')}`);
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    database: { url: databaseUrl, dataDir: resolve(e.DATA_DIR), embeddedPort: e.EMBEDDED_DB_PORT },
    mqtt: {
      url: e.MQTT_URL,
      embedded: { host: e.MQTT_EMBEDDED_HOST, port: e.MQTT_EMBEDDED_PORT },
      username: e.MQTT_USERNAME,
      password: mqttPassword,
      clientId: e.MQTT_CLIENT_ID,
      shareGroup: e.MQTT_SHARE_GROUP,
    },
    ingest: {
      batchMax: e.INGEST_BATCH_MAX,
      batchWaitMs: e.INGEST_BATCH_WAIT_MS,
      queueMax: e.INGEST_QUEUE_MAX,
      commitConcurrency: e.INGEST_COMMIT_CONCURRENCY,
      gapGraceMs: e.INGEST_GAP_GRACE_MS,
      deadLetterMaxRows: e.DEAD_LETTER_MAX_ROWS,
    },
    maintenanceIntervalS: e.MAINTENANCE_INTERVAL_S,
    alerts: { cameraDownAfterS: e.ALERT_CAMERA_DOWN_AFTER_S, occurrenceWindowS: e.ALERT_OCCURRENCE_WINDOW_S },
    push: { redisUrl: e.REDIS_URL },
    auth: {
      jwtSecret: e.JWT_SECRET,
      accessTokenTtlS: e.ACCESS_TOKEN_TTL_S,
      refreshTokenTtlH: e.REFRESH_TOKEN_TTL_H,
      admin:
        e.ADMIN_USERNAME !== undefined && adminPassword !== undefined
          ? { username: e.ADMIN_USERNAME.toLowerCase(), password: adminPassword }
          : undefined,
      loginMaxFailuresPerUser: e.LOGIN_MAX_FAILURES_PER_USER,
      loginMaxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
    },
  };
}

/** A secret file's content without its line end; a problem (naming the file, never the content) if unreadable. */
function readSecretFile(variable: string, file: string, problems: string[]): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (value === '') problems.push(`${variable}: ${file} is empty`);
    return value;
  } catch (err) {
    problems.push(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** DATABASE_URL with the password of DATABASE_PASSWORD_FILE, so the URL itself can sit in a compose file. */
function withDatabasePassword(
  url: string | undefined,
  file: string | undefined,
  problems: string[],
): string | undefined {
  if (file === undefined) return url;
  if (url === undefined) {
    problems.push('DATABASE_PASSWORD_FILE: needs DATABASE_URL (the embedded database has no password)');
    return url;
  }
  const parsed = new URL(url);
  if (parsed.password !== '') {
    problems.push('DATABASE_PASSWORD_FILE: DATABASE_URL already has a password, give it in one place only');
    return url;
  }
  const password = readSecretFile('DATABASE_PASSWORD_FILE', file, problems);
  if (password === undefined) return url;
  // pg decodes the userinfo with decodeURIComponent: encode every reserved character, "%" included.
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/** Names of the variables, for the README's configuration table test. */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape);
