/**
 * Ingest benchmark: `npm run bench:ingest` (tsx scripts/bench-ingest.ts [--events N] [--devices N] [--no-write]).
 *
 * Simulated edges -> real Mosquitto (the machine's, 127.0.0.1:1883) -> the control centre as a child process ->
 * database. Reports committed events/s (first publish to last commit acknowledgement), publish-to-commit latency
 * p50/p99 (from the simulator's outboxes: publish until the commit ack covering the message), and the centre's RSS
 * under load (from its /metrics). Baseline in the same run: the same number of event rows inserted into the same
 * table by bare `INSERT ... SELECT FROM unnest(...)` statements of the same batch size, no MQTT, no validation.
 * Flavours: PostgreSQL 15 server (scratch database) and the embedded PGlite + TimescaleDB.
 */
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { openDatabase } from '../apps/control-center/src/database/database';
import { EdgeSimulator, percentile, simulatedEvent } from '../edge/src/simulator/edge-simulator';
import { CentreProcess } from '../test/support/centre-process';
import { ScratchDatabase } from '../test/support/scratch-database';
import { PrivateMosquitto } from '../edge/src/outbox/testing/private-mosquitto';
import { uniqueId } from '../test/support/services';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EVENTS = arg('events', 200_000);
const EMBEDDED_EVENTS = arg('embedded-events', 50_000);
const DEVICES = arg('devices', 10);
/** Offered load (events/s over all devices); the targets are stated at these rates. */
const RATE = arg('rate', 20_000);
const EMBEDDED_RATE = arg('embedded-rate', 5_000);
const BATCH = 2000;
const write = !args.includes('--no-write');

interface RunResult {
  flavour: string;
  events: number;
  offered: number;
  eventsPerS: number;
  p50: number;
  p99: number;
  rssMb: number;
  duplicates: number;
}

/** The baseline: bare unnest inserts of the same event rows, same batch size, straight into the table. */
async function bareUnnest(url: string, events: number): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await bareUnnestOn(c, events);
  } finally {
    await c.end();
  }
}

async function bareUnnestOn(c: Client, events: number): Promise<number> {
  const boot = '11111111-2222-4333-8444-555555555555';
  const now = new Date();
  const start = performance.now();
  for (let off = 0; off < events; off += BATCH) {
    const n = Math.min(BATCH, events - off);
    const rows = Array.from({ length: n }, (_, i) => simulatedEvent(boot, off + i + 1, now));
    await c.query(
      `INSERT INTO detection_events (ts, site_id, node_id, camera_id, boot_id, seq, event_id, phase, kind, rule_id,
         zone_id, object_class, track_id, score, max_score, box, started_at, ended_at, end_reason, dwell_seconds,
         pedestrians_present, evidence_id, evidence_sha256, model_id, model, received_at)
       SELECT ts, 'bench', 'bare', 'cam-1', $1::uuid, seq, event_id, phase, kind, 'rule-1', 'zone-1', 'car', track_id,
         0.8, 0.9, ARRAY[0.1,0.1,0.3,0.3]::real[], ts, NULL, NULL, 30, NULL, NULL, NULL, 'yolox_nano_416', $2::jsonb, now()
       FROM unnest($3::timestamptz[], $4::bigint[], $5::uuid[], $6::text[], $7::text[], $8::int[])
         AS u(ts, seq, event_id, phase, kind, track_id)
       ON CONFLICT DO NOTHING`,
      [
        boot,
        JSON.stringify(rows[0].model),
        rows.map((r) => r.ts),
        rows.map((r) => r.seq),
        rows.map((r) => r.eventId),
        rows.map((r) => r.phase),
        rows.map((r) => r.kind),
        rows.map((r) => r.trackId),
      ],
    );
  }
  const rate = events / ((performance.now() - start) / 1000);
  await c.query(`DELETE FROM detection_events WHERE site_id = 'bench'`);
  return rate;
}

async function centreRss(centre: CentreProcess): Promise<number> {
  const text = await (await fetch(`${centre.baseUrl}/metrics`)).text();
  const m = text.match(/^vigil_process_resident_memory_bytes (\d+)/m);
  return m ? Number(m[1]) / 1024 / 1024 : NaN;
}

async function throughCentre(
  broker: string,
  flavour: string,
  env: Record<string, string>,
  events: number,
  rate: number,
): Promise<RunResult> {
  const centre = await CentreProcess.create({
    MQTT_URL: broker,
    MQTT_CLIENT_ID: uniqueId('bench-centre'),
    MQTT_SHARE_GROUP: uniqueId('bench'),
    ...env,
  });
  await centre.start(120_000);
  const sim = new EdgeSimulator({
    url: broker,
    siteId: uniqueId('bench'),
    devices: DEVICES,
    ratePerDevice: rate / DEVICES,
    messagesPerDevice: Math.ceil(events / DEVICES),
    resendAfterMs: 30_000,
    inflight: 200,
  });
  await sim.connect();
  let peakRss = 0;
  const sampler = setInterval(() => {
    centreRss(centre)
      .then((r) => (peakRss = Math.max(peakRss, r)))
      .catch(() => undefined);
  }, 500);
  const start = performance.now();
  await sim.run();
  const ok = await sim.waitUntilAllCommitted(600_000);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const totals = sim.totals();
  const lat = sim.latencies();
  await sim.close();
  await centre.stop();
  if (!ok) throw new Error(`${flavour}: ${totals.unacked} events never acknowledged`);
  return {
    flavour,
    events: totals.created,
    offered: rate,
    eventsPerS: totals.created / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    rssMb: peakRss,
    duplicates: totals.resends,
  };
}

async function main(): Promise<void> {
  const load = os.loadavg();
  const pg = await ScratchDatabase.create('vigil_bench');
  // A broker of the benchmark's own with the deployment's queue and in-flight limits (deploy/mosquitto): the
  // machine's default Mosquitto drops QoS 1 messages beyond 1000 queued per subscriber. Persistence on, saved every
  // 60 s (saving on every change dumps the whole store each time, which would measure the broker's disk).
  const mosquitto = await PrivateMosquitto.start({
    autosaveEveryChange: false,
    extra: ['max_inflight_messages 1000', 'max_queued_bytes 0'],
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  try {
    // Migrations first (through the same code the centre uses), then the baseline on the empty table.
    const db = await openDatabase({ url: pg.url, dataDir, logger: pino({ level: 'warn' }) });
    await db.runMaintenance(); // creates today's partitions on plain PostgreSQL
    await db.close();
    const bare = await bareUnnest(pg.url, EVENTS);
    console.log(`bare unnest insert: ${bare.toFixed(0)} rows/s`);
    const server = await throughCentre(mosquitto.url, 'PostgreSQL 15 server', { DATABASE_URL: pg.url }, EVENTS, RATE);
    console.log(server);
    const embedded = await throughCentre(
      mosquitto.url,
      'embedded PGlite + TimescaleDB',
      { DATA_DIR: dataDir },
      EMBEDDED_EVENTS,
      EMBEDDED_RATE,
    );
    console.log(embedded);

    const row = (r: RunResult, ratio: string) =>
      `| ${r.flavour} | ${r.events} | ${r.offered} | ${r.eventsPerS.toFixed(0)} | ${ratio} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.rssMb.toFixed(0)} | ${r.duplicates} |`;
    const md = [
      `\n## Ingest — ${new Date().toISOString()}\n`,
      `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${os.type()} ${os.release()}; Node ${process.version}. Load average before: ${load.map((l) => l.toFixed(2)).join(' / ')}.`,
      `Method: ${DEVICES} simulated edge devices (one MQTT connection each, QoS 1, up to 200 in flight each) publishing detection events at a fixed offered rate (below) through a private Mosquitto 2.0 on the same machine (max_queued_messages 1000000, max_inflight_messages 1000, persistence saved every 60 s) to the centre (child process, batch ${BATCH}); everything (simulator, broker, centre, database) shares the 2 cores. Rate = events / (first publish → last commit ack). Latency = publish → commit ack covering it. Baseline: the same number of event rows inserted by bare \`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING\` in batches of ${BATCH}, same table, same run, no MQTT or validation.`,
      '',
      '| flavour | events | offered events/s | committed events/s | ratio to bare unnest | p50 ms | p99 ms | centre RSS MB (peak) | simulator resends |',
      '|---|---|---|---|---|---|---|---|---|',
      `| bare unnest insert (baseline) | ${EVENTS} | | ${bare.toFixed(0)} | 1.00 | | | | |`,
      row(server, (server.eventsPerS / bare).toFixed(2)),
      row(embedded, '—'),
      '',
      'Targets (issue 3): ≥ 20,000 events/s into the PostgreSQL server with p99 < 1 s and ≥ half the bare insert rate; ≥ 5,000 events/s into the embedded flavour.',
      '',
    ].join('\n');
    console.log(md);
    if (write) {
      const file = path.join(__dirname, '..', 'BENCHMARKS.md');
      if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n');
      appendFileSync(file, md);
    }
  } finally {
    await mosquitto.stop();
    await pg.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
