import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { Client } from 'pg';
import pino from 'pino';
import {
  BATCHABLE_KINDS,
  encodeBatch,
  parseMessage,
  topics,
  type ContractError,
  type EdgeCameraKind,
} from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import { EmbeddedDatabase } from '../apps/control-center/src/database/embedded/embedded-database';
import {
  DEAD_LETTER_PATH_CHARS,
  deadLetterText,
} from '../apps/control-center/src/database/repositories/dead-letter.repository';
import { EdgeSimulator, percentile } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, uniqueId, waitFor } from './support/services';

// Hostile but valid-looking input must never cost good data nor stop ingest. Some nodes send 5,000 messages of every
// kind whose envelope is right and whose content is adversarial (NUL, lone surrogates, very long text, control and
// bidi characters, SQL-looking strings, extreme numbers and timestamps), alone and in batches; other nodes send
// ordinary traffic. Through the real broker into each database flavour: every ordinary message is committed and
// acked in normal time, every hostile one is stored faithfully or dead-lettered with a reason (its seq closed), the
// centre stays ready throughout, and nobody is asked for a replay.
jest.setTimeout(240_000);

const HOSTILE = 5000;
const HOSTILE_NODES = 4;
const ORDINARY_DEVICES = 3;
const ORDINARY_PER_DEVICE = 400;
const GRACE_MS = 1000;

// --- adversarial values ------------------------------------------------------------------------------------------

const STRINGS = [
  'a\u0000b',
  '\u0000',
  '\uD800',
  'x\uDFFFy',
  '\uDBFF\uDBFF',
  '🚗 \uD83D\uDE97',
  'x'.repeat(499),
  'é'.repeat(500),
  'y'.repeat(5000),
  '🚗'.repeat(250),
  '\u0001\u0002\u001b[31mred',
  '\t\n\r',
  '\u007f\u0085\u009f',
  '\u202Eevil\u202C',
  '\u2066x\u2069\u200F',
  '\u200B\u200D\uFEFF',
  "'); DROP TABLE dead_letters; --",
  "\\x00 E'\\\\' $1::text",
  '{"$gt":""}',
  'NULL',
  '\\u0000',
  '"',
  '\\',
  '',
  '%_*?',
];
const NUMBERS = [
  2 ** 31,
  2 ** 31 - 1,
  -1,
  -(2 ** 31),
  2 ** 53 - 1,
  2 ** 53,
  1e308,
  -1e308,
  5e-324,
  1e-300,
  1e-45,
  1.5,
  0,
  -0,
  1e21,
  3.4028235e38,
  3.5e38,
];
const now = Date.now();
const TIMES = [
  '0000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '1999-12-31T23:59:59.999Z',
  '2000-01-01T00:00:00Z',
  '2099-12-31T23:59:59.999Z',
  '2100-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T00:00:00Z',
  '2026-12-03T24:00:00Z',
  '2026-12-03T23:59:60Z',
  new Date(now - 60_000).toISOString().replace('Z', '123456Z'),
  new Date(now - 60_000).toISOString().replace('Z', '+14:00'),
  new Date(now - 120_000).toISOString(),
];

const stringArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);
const numberArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
const intArb = fc.oneof(fc.constantFrom(...NUMBERS), fc.integer());
const timeArb = fc.constantFrom(...TIMES);

type Json = Record<string, unknown>;
type Mutation = (m: Json, v: unknown) => void;
const at =
  (...p: (string | number)[]): Mutation =>
  (m, v) => {
    let o = m as Record<string | number, unknown>;
    for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
    o[p[p.length - 1]] = v;
  };
/** Adds a record entry whose key is the hostile value (and whose value is a valid one). */
const key =
  (value: number, ...p: string[]): Mutation =>
  (m, v) => {
    let o = m as Record<string, unknown>;
    for (const k of p) o = o[k] as Record<string, unknown>;
    o[String(v)] = value;
  };

/** Per kind: the fixture it starts from, and the fields a hostile node fills, by the type of value they hold. */
const KINDS: Record<
  string,
  { fixture: string; text: Mutation[]; number: Mutation[]; int: Mutation[]; time: Mutation[] }
> = {
  camera_status: {
    fixture: 'camera_status--stalled',
    text: [at('reason')],
    number: [],
    int: [at('attempt'), at('nextRetryMs')],
    time: [at('ts')],
  },
  node_status: {
    fixture: 'node_status',
    text: [at('version')],
    number: [],
    int: [at('configVersion')],
    time: [at('ts')],
  },
  heartbeat: {
    fixture: 'heartbeat',
    text: [key(1, 'outbox', 'evicted')],
    number: [at('uptimeS'), at('outbox', 'oldestAgeS'), at('cameras', 0, 'fps')],
    int: [at('configVersion'), at('outbox', 'depth'), at('outbox', 'bytes'), at('cameras', 0, 'droppedFrames')],
    time: [at('ts')],
  },
  event: {
    fixture: 'event',
    text: [at('model', 'modelId'), at('model', 'trackerId'), key(0.5, 'model', 'classThresholds')],
    number: [at('dwellSeconds'), at('score'), at('box', 0)],
    int: [at('trackId')],
    time: [at('ts'), at('startedAt')],
  },
  crossing: {
    fixture: 'crossing',
    text: [],
    number: [at('score'), at('point', 1)],
    int: [at('trackId')],
    time: [at('at'), at('ts')],
  },
  count: { fixture: 'count', text: [], number: [], int: [at('counts', 0, 'count')], time: [at('ts')] },
  config_ack: {
    fixture: 'config_ack--rejected',
    text: [at('errors', 0, 'path'), at('errors', 0, 'message')],
    number: [],
    int: [at('configVersion')],
    time: [at('ts')],
  },
  evidence: {
    fixture: 'evidence',
    text: [],
    number: [at('box', 3)],
    int: [at('width'), at('height'), at('masking', 'personsBlurred')],
    time: [at('capturedAt')],
  },
};
const KIND_NAMES = Object.keys(KINDS);
const fixtures = new Map(loadFixtures('valid').map((f) => [f.name, f]));

interface Hostile {
  nodeId: string;
  bootId: string;
  seq: number;
  kind: string;
  topic: string;
  message: Json;
  /** What the contract says about it: null when valid. */
  refusal: ContractError | null;
}

/** `HOSTILE` messages over HOSTILE_NODES streams, each with a valid envelope and one to three hostile fields. */
function hostileMessages(siteId: string): Hostile[] {
  const boots = Array.from({ length: HOSTILE_NODES }, () => randomUUID());
  const seqs = new Array<number>(HOSTILE_NODES).fill(0);
  const edits = fc.sample(
    fc.tuple(
      fc.constantFrom(...KIND_NAMES),
      fc.array(
        fc.tuple(fc.constantFrom('text', 'number', 'int', 'time'), fc.nat(), stringArb, numberArb, intArb, timeArb),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
    ),
    { seed: 20261203, numRuns: HOSTILE },
  );
  return edits.map(([kind, fields], i) => {
    const n = i % HOSTILE_NODES;
    const spec = KINDS[kind];
    const base = structuredClone(fixtures.get(spec.fixture)!.json) as Json;
    const ts = new Date(Date.now() - 60_000).toISOString();
    Object.assign(base, { bootId: boots[n], seq: ++seqs[n], ts });
    if (kind === 'event') Object.assign(base, { startedAt: ts });
    if (kind === 'crossing') Object.assign(base, { at: ts });
    if (kind === 'evidence') Object.assign(base, { capturedAt: ts });
    if (kind === 'count') {
      const end = Math.floor(Date.now() / 60_000) * 60_000;
      Object.assign(base, {
        intervalStart: new Date(end - 60_000).toISOString(),
        intervalEnd: new Date(end).toISOString(),
      });
    }
    for (const [type, pick, s, num, int, time] of fields) {
      const targets = spec[type as 'text'];
      if (targets.length === 0) continue;
      const value = type === 'text' ? s : type === 'number' ? num : type === 'int' ? int : time;
      targets[pick % targets.length](base, value);
    }
    const ref = { siteId, nodeId: `hostile-${n}` };
    const topic =
      kind === 'heartbeat' || kind === 'node_status' || kind === 'config_ack'
        ? topics.edgeNode(kind, ref)
        : topics.edgeCamera(kind as EdgeCameraKind, { ...ref, cameraId: 'cam-1' });
    const parsed = parseMessage(topic, Buffer.from(JSON.stringify(base), 'utf8'));
    return {
      nodeId: ref.nodeId,
      bootId: boots[n],
      seq: seqs[n],
      kind,
      topic,
      message: base,
      refusal: parsed.ok ? null : parsed.error,
    };
  });
}

/** Most seqs a hostile node has published beyond its acknowledged mark (an edge outbox's publish window). */
const WINDOW = 100;

/**
 * The hostile nodes' side: nodes 0 and 2 publish one message at a time, nodes 1 and 3 batch what may be batched;
 * each keeps within WINDOW seqs of its commit ack (so a refused seq that stayed open would stall it) and answers
 * replay requests like an edge (the broker may drop QoS 1 messages when the centre's queue is full).
 */
class HostileNodes {
  private readonly clients: mqtt.MqttClient[] = [];
  private readonly sent = new Map<string, Hostile>();
  readonly acked = new Map<string, number>();
  /** Replay requests received, each with when it came. */
  readonly replays: { bootId: string; at: number }[] = [];

  constructor(
    private readonly siteId: string,
    private readonly messages: Hostile[],
  ) {}

  async connect(): Promise<void> {
    for (let n = 0; n < HOSTILE_NODES; n++) {
      const client = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('hostile') });
      client.on('message', (topic, payload) => this.onCentre(client, topic, payload));
      await client.subscribeAsync(`vigil/v1/centre/${this.siteId}/hostile-${n}/+`, { qos: 1 });
      this.clients.push(client);
    }
  }

  async send(): Promise<void> {
    const window: Promise<unknown>[] = [];
    const pendingBatch = new Map<number, Hostile[]>();
    const flush = (n: number) => {
      const list = pendingBatch.get(n) ?? [];
      if (list.length === 0) return;
      pendingBatch.set(n, []);
      const node = { siteId: this.siteId, nodeId: list[0].nodeId };
      const prefix = topics.edgeNodePrefix(node);
      const payload = encodeBatch(
        list.map((h) => ({ suffix: h.topic.slice(prefix.length), payload: Buffer.from(JSON.stringify(h.message)) })),
      );
      window.push(this.clients[n].publishAsync(topics.edgeNode('batch', node), payload, { qos: 1 }));
    };
    for (const h of this.messages) {
      const n = Number(h.nodeId.split('-')[1]);
      this.sent.set(`${h.bootId}/${h.seq}`, h);
      if (h.seq > WINDOW && (this.acked.get(h.bootId) ?? 0) < h.seq - WINDOW) {
        for (let k = 0; k < HOSTILE_NODES; k++) flush(k);
        await waitFor(
          `hostile seq ${h.seq - WINDOW} acknowledged`,
          () => (this.acked.get(h.bootId) ?? 0) >= h.seq - WINDOW,
          30_000,
        );
      }
      if (n % 2 === 1 && (BATCHABLE_KINDS as readonly string[]).includes(h.kind)) {
        const list = pendingBatch.get(n) ?? [];
        list.push(h);
        pendingBatch.set(n, list);
        if (list.length >= 10) flush(n);
      } else {
        flush(n); // keep each node's seqs in order on the wire
        window.push(this.clients[n].publishAsync(h.topic, Buffer.from(JSON.stringify(h.message)), { qos: 1 }));
      }
      if (window.length >= 50) await Promise.all(window.splice(0));
    }
    for (let n = 0; n < HOSTILE_NODES; n++) flush(n);
    await Promise.all(window);
  }

  private onCentre(client: mqtt.MqttClient, topic: string, payload: Buffer): void {
    const r = parseMessage(topic, payload);
    if (!r.ok) return;
    const { bootId } = r.message as { bootId: string };
    if (r.kind === 'commit') this.acked.set(bootId, Math.max(this.acked.get(bootId) ?? 0, r.message.upToSeq));
    if (r.kind !== 'replay') return;
    this.replays.push({ bootId, at: Date.now() });
    for (const range of r.message.ranges) {
      for (let seq = range.from; seq <= range.to; seq++) {
        const h = this.sent.get(`${bootId}/${seq}`);
        if (h) client.publish(h.topic, Buffer.from(JSON.stringify(h.message)), { qos: 1 });
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }
}

// --- what the database holds ---------------------------------------------------------------------------------------

type Check = [
  column: string,
  sent: unknown,
  type: 'text' | 'int' | 'int8' | 'real' | 'reals' | 'double' | 'json' | 'time',
];

/** The stored columns of each kind that must hold exactly what was sent (as validated). */
function columnsOf(kind: string, m: Json): { table: string; checks: Check[] } {
  const g = (...p: (string | number)[]) => p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)?.[k], m);
  switch (kind) {
    case 'camera_status':
      return {
        table: 'camera_status',
        checks: [
          ['reason', g('reason'), 'text'],
          ['attempt', g('attempt'), 'int'],
          ['next_retry_ms', g('nextRetryMs'), 'int'],
          ['ts', g('ts'), 'time'],
        ],
      };
    case 'node_status':
      return {
        table: 'node_status',
        checks: [
          ['version', g('version'), 'text'],
          ['config_version', g('configVersion'), 'int'],
          ['ts', g('ts'), 'time'],
        ],
      };
    case 'heartbeat':
      return {
        table: 'heartbeats',
        checks: [
          ['uptime_s', g('uptimeS'), 'double'],
          ['config_version', g('configVersion'), 'int'],
          ['outbox_depth', g('outbox', 'depth'), 'int'],
          ['outbox_bytes', g('outbox', 'bytes'), 'int8'],
          ['outbox_oldest_age_s', g('outbox', 'oldestAgeS'), 'double'],
          ['outbox_evicted', g('outbox', 'evicted'), 'json'],
          ['cameras', g('cameras'), 'json'],
          ['ts', g('ts'), 'time'],
        ],
      };
    case 'event':
      return {
        table: 'detection_events',
        checks: [
          ['track_id', g('trackId'), 'int'],
          ['score', g('score'), 'real'],
          ['box', g('box'), 'reals'],
          ['dwell_seconds', g('dwellSeconds'), 'double'],
          ['model', g('model'), 'json'],
          ['started_at', g('startedAt'), 'time'],
          ['ts', g('ts'), 'time'],
        ],
      };
    case 'crossing':
      return {
        table: 'line_crossings',
        checks: [
          ['track_id', g('trackId'), 'int'],
          ['score', g('score'), 'real'],
          ['point', g('point'), 'reals'],
          ['at', g('at'), 'time'],
        ],
      };
    case 'count':
      return {
        table: 'count_intervals',
        checks: [['total', (g('counts') as { count: number }[]).reduce((a, c) => a + c.count, 0), 'int']],
      };
    case 'config_ack':
      return {
        table: 'config_acks',
        checks: [
          ['config_version', g('configVersion'), 'int'],
          ['errors', g('errors'), 'json'],
        ],
      };
    default:
      return {
        table: 'evidence',
        checks: [
          ['width', g('width'), 'int'],
          ['height', g('height'), 'int'],
          ['persons_blurred', g('masking', 'personsBlurred'), 'int'],
          ['box', g('box'), 'reals'],
          ['captured_at', g('capturedAt'), 'time'],
        ],
      };
  }
}

function same(stored: unknown, sent: unknown, type: Check[2]): boolean {
  if (sent === null || sent === undefined) return stored === null;
  switch (type) {
    case 'int8':
      return Number(stored) === sent;
    case 'real':
      return Math.fround(stored as number) === Math.fround(sent as number);
    case 'reals':
      return (sent as number[]).every((v, i) => Math.fround((stored as number[])[i]) === Math.fround(v));
    case 'double':
      return stored === sent || (stored === 0 && sent === 0);
    case 'json':
      return JSON.stringify(sortKeys(stored)) === JSON.stringify(sortKeys(JSON.parse(JSON.stringify(sent))));
    case 'time':
      return Math.abs((stored as Date).getTime() - Date.parse(sent as string)) <= 1;
    case 'int':
    case 'text':
      return stored === sent;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

type Query = <T extends object>(sql: string, params?: unknown[]) => Promise<T[]>;

/** Where each hostile message ended: its row (checked column by column) or its dead letter. */
async function verifyHostile(query: Query, siteId: string, hostile: Hostile[]) {
  const dead = await query<{ boot_id: string; seq: string; code: string; path: string | null; reason: string }>(
    'SELECT boot_id, seq, code, path, reason FROM dead_letters WHERE topic LIKE $1',
    [`%/${siteId}/%`],
  );
  const deadBy = new Map(dead.map((d) => [`${d.boot_id}/${d.seq}`, d]));
  const rowsBy = new Map<string, Record<string, unknown>>();
  const byTable = new Map<string, string[]>();
  for (const k of KIND_NAMES) {
    const { table, checks } = columnsOf(k, structuredClone(fixtures.get(KINDS[k].fixture)!.json) as Json);
    byTable.set(
      table,
      checks.map((c) => c[0]),
    );
  }
  for (const [table, cols] of byTable) {
    const rows = await query<Record<string, unknown>>(
      `SELECT boot_id, seq, ${cols.join(', ')} FROM ${table} WHERE site_id = $1`,
      [siteId],
    );
    for (const r of rows) rowsBy.set(`${table}/${String(r.boot_id)}/${String(r.seq)}`, r);
  }
  const problems: string[] = [];
  let stored = 0;
  let refusedAtValidation = 0;
  let refusedLater = 0;
  const laterCodes = new Map<string, number>();
  for (const h of hostile) {
    const id = `${h.bootId}/${h.seq}`;
    const d = deadBy.get(id);
    if (h.refusal) {
      refusedAtValidation++;
      if (!d) problems.push(`${h.kind} ${id}: refused by the contract (${h.refusal.path}) but no dead letter`);
      // A path can name a hostile record key: kept as storable text.
      else if (d.code !== h.refusal.code || (d.path ?? '') !== deadLetterText(h.refusal.path, DEAD_LETTER_PATH_CHARS))
        problems.push(
          `${h.kind} ${id}: dead letter ${d.code} ${d.path} instead of ${h.refusal.code} ${h.refusal.path}`,
        );
      continue;
    }
    // the validated message, defaults applied: what the centre stores
    const parsed = parseMessage(h.topic, Buffer.from(JSON.stringify(h.message)));
    if (!parsed.ok) throw new Error('unreachable');
    const { table, checks } = columnsOf(h.kind, parsed.message);
    const row = rowsBy.get(`${table}/${id}`);
    if (row) {
      stored++;
      for (const [col, sent, type] of checks) {
        if (!same(row[col], sent, type))
          problems.push(`${h.kind} ${id}: ${col} stored ${JSON.stringify(row[col])}, sent ${JSON.stringify(sent)}`);
      }
    } else if (d && d.reason) {
      refusedLater++;
      laterCodes.set(d.code, (laterCodes.get(d.code) ?? 0) + 1);
    } else {
      problems.push(`${h.kind} ${id}: valid, neither stored nor dead-lettered`);
    }
  }
  const streams = await query<{ boot_id: string; committed_up_to: string; pending: string[]; rejected: string }>(
    'SELECT boot_id, committed_up_to, pending, rejected FROM delivery_state WHERE site_id = $1',
    [siteId],
  );
  return { problems, stored, refusedAtValidation, refusedLater, laterCodes, streams, deadLetters: dead.length };
}

// --- the run -------------------------------------------------------------------------------------------------------

interface Flavour {
  name: string;
  /** Starts a centre on its own database; returns how to query that database once the centre has stopped. */
  start(): Promise<{ centre: CentreProcess; query: () => Promise<{ query: Query; close: () => Promise<void> }> }>;
}

const postgres: Flavour = {
  name: 'plain PostgreSQL',
  async start() {
    const db = await ScratchDatabase.create();
    const centre = await CentreProcess.startOnSharedBroker({
      DATABASE_URL: db.url,
      INGEST_GAP_GRACE_MS: String(GRACE_MS),
    });
    return {
      centre,
      query: () => Promise.resolve({ query: (sql, params) => db.query(sql, params), close: () => db.drop() }),
    };
  },
};

const embedded: Flavour = {
  name: 'embedded PGlite with TimescaleDB',
  async start() {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hostile-'));
    const centre = await CentreProcess.startOnSharedBroker({
      DATA_DIR: dataDir,
      INGEST_GAP_GRACE_MS: String(GRACE_MS),
    });
    return {
      centre,
      // PGlite is one backend and the centre holds it: read its data directory once the centre is gone.
      async query() {
        const db = await EmbeddedDatabase.start({
          dataDir: path.join(dataDir, 'pglite'),
          logger: pino({ level: 'silent' }),
        });
        const client = new Client({ host: '127.0.0.1', port: db.port, user: 'postgres', database: 'postgres' });
        await client.connect();
        return {
          query: async <T extends object>(sql: string, params: unknown[] = []) =>
            (await client.query<T>(sql, params)).rows,
          close: async () => {
            await client.end();
            await db.stop();
            rmSync(dataDir, { recursive: true, force: true });
          },
        };
      },
    };
  },
};

describe.each([postgres, embedded])('ingest under hostile but valid-looking input, on $name', (flavour) => {
  it('stores or dead-letters every hostile message, commits all ordinary traffic in time, stays ready, replays nothing', async () => {
    const started = Date.now();
    const { centre, query } = await flavour.start();
    const hostileSite = uniqueId('hostile');
    const ordinarySite = uniqueId('ordinary');
    const hostile = hostileMessages(hostileSite);
    const lastSeq = new Map<string, number>();
    for (const h of hostile) lastSeq.set(h.bootId, Math.max(lastSeq.get(h.bootId) ?? 0, h.seq));

    const nodes = new HostileNodes(hostileSite, hostile);
    await nodes.connect();

    // Readiness, polled all along.
    const readiness: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        readiness.push(
          await fetch(`${centre.baseUrl}/health/ready`).then(
            (r) => r.status,
            () => 0,
          ),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const sim = new EdgeSimulator({
      url: MOSQUITTO_URL,
      siteId: ordinarySite,
      devices: ORDINARY_DEVICES,
      ratePerDevice: 200,
      messagesPerDevice: ORDINARY_PER_DEVICE,
      resendAfterMs: 10_000,
    });
    let verified: Awaited<ReturnType<typeof verifyHostile>> | null = null;
    let replaysWhenQuiet = -1;
    try {
      await sim.connect();
      await Promise.all([sim.run(), nodes.send()]);
      expect(await sim.waitUntilAllCommitted(30_000)).toBe(true);
      await waitFor(
        'every hostile stream acknowledged to its last seq',
        () => [...lastSeq].every(([boot, seq]) => (nodes.acked.get(boot) ?? 0) >= seq),
        30_000,
      ).catch((err: Error) => {
        const state = [...lastSeq].map(([boot, seq]) => {
          const next = hostile.find((h) => h.bootId === boot && h.seq === (nodes.acked.get(boot) ?? 0) + 1);
          return `${boot}: acked ${nodes.acked.get(boot) ?? 0} of ${seq}; next ${next?.topic} ${JSON.stringify(next?.refusal)}`;
        });
        throw new Error(`${err.message}\n${state.join('\n')}\n${centre.output.join('').slice(-4000)}`);
      });
      // Two grace periods with nothing in flight: a seq left open would be asked for now, again and again.
      const quietFrom = Date.now();
      const simReplays = sim.totals().replayRequests;
      await new Promise((r) => setTimeout(r, 2 * GRACE_MS + 500));
      replaysWhenQuiet =
        nodes.replays.filter((r) => r.at >= quietFrom).length + sim.totals().replayRequests - simReplays;
      polling = false;
      await poller;
      expect(await centre.ready()).toBe(true);
    } finally {
      polling = false;
      await sim.close();
      await nodes.close();
      await centre.stop();
    }

    const db = await query();
    try {
      verified = await verifyHostile(db.query, hostileSite, hostile);
      const ordinaryStored = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM detection_events WHERE site_id = $1',
        [ordinarySite],
      );
      expect(Number(ordinaryStored[0].n)).toBe(ORDINARY_DEVICES * ORDINARY_PER_DEVICE);
    } finally {
      await db.close();
    }

    // Ordinary traffic: all committed, acked in normal time, never asked for again.
    const latencies = sim.latencies();
    expect(latencies).toHaveLength(ORDINARY_DEVICES * ORDINARY_PER_DEVICE);
    expect(percentile(latencies, 95)).toBeLessThan(10_000);
    // Replays only repair what the broker dropped under load (a few), never loop: none once everything is acked.
    expect(replaysWhenQuiet).toBe(0);
    expect(nodes.replays.length + sim.totals().replayRequests).toBeLessThan(20);
    // Readiness never left green; nobody was asked for a replay.
    expect(readiness.length).toBeGreaterThan(5);
    expect(readiness.filter((s) => s !== 200)).toEqual([]);
    // Every hostile message stored faithfully or dead-lettered with a reason; every hostile stream complete.
    expect(verified.problems.slice(0, 20)).toEqual([]);
    expect(verified.stored + verified.refusedAtValidation + verified.refusedLater).toBe(HOSTILE);
    // A real mix: plenty stored, plenty refused.
    expect(verified.stored).toBeGreaterThan(HOSTILE / 10);
    expect(verified.refusedAtValidation).toBeGreaterThan(HOSTILE / 10);
    expect(verified.streams.map((s) => [s.boot_id, Number(s.committed_up_to), s.pending])).toEqual(
      expect.arrayContaining([...lastSeq].map(([boot, seq]) => [boot, seq, []])),
    );
    const rejected = verified.streams.reduce((n, s) => n + Number(s.rejected), 0);
    expect(rejected).toBe(verified.refusedAtValidation + verified.refusedLater);
    console.info(
      `${flavour.name}: ${verified.stored} hostile stored, ${verified.refusedAtValidation} refused at validation, ` +
        `${verified.refusedLater} refused by the centre (${JSON.stringify(Object.fromEntries(verified.laterCodes))}); ` +
        `ordinary p95 ${percentile(latencies, 95)} ms; ${readiness.length} readiness polls; ${Date.now() - started} ms`,
    );
  });
});
