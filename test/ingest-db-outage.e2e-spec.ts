import { Client } from 'pg';
import { EdgeSimulator } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { PrivatePostgres } from './support/private-postgres';
import { MOSQUITTO_URL, uniqueId } from './support/services';

// A private PostgreSQL cluster crash-stopped (-m immediate) for 10 s during ingest: readiness goes red, then
// green; nothing is lost, nothing duplicated, the centre does not crash.
jest.setTimeout(240_000);

describe('database outage during ingest', () => {
  let pg: PrivatePostgres;
  let centre: CentreProcess;
  let sim: EdgeSimulator;

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    centre = await CentreProcess.startOnSharedBroker({ DATABASE_URL: pg.url, INGEST_GAP_GRACE_MS: '1000' });
  });

  afterAll(async () => {
    await sim?.close();
    await centre?.stop();
    pg?.destroy();
  });

  it('goes unready while the database is down, then catches up exactly once', async () => {
    const siteId = uniqueId('outage');
    sim = new EdgeSimulator({
      url: MOSQUITTO_URL,
      siteId,
      devices: 4,
      ratePerDevice: 100,
      messagesPerDevice: 2500,
      resendAfterMs: 5000,
    });
    await sim.connect();
    const running = sim.run();
    await new Promise((r) => setTimeout(r, 3000));

    pg.stopImmediate();
    const readiness: boolean[] = [];
    const downSince = Date.now();
    while (Date.now() - downSince < 10_000) {
      readiness.push(await centre.ready());
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(readiness).toContain(false);
    // A centre that died during the outage says why in its own output.
    const live = await fetch(`${centre.baseUrl}/health/live`).catch((err: Error) => {
      throw new Error(`centre not live after the outage (${err.message}); its output:\n${centre.output.join('')}`);
    });
    expect(live.status).toBe(200);

    pg.start();
    const deadline = Date.now() + 30_000;
    while (!(await centre.ready()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await centre.ready()).toBe(true);

    await running;
    expect(await sim.waitUntilAllCommitted(120_000)).toBe(true);

    const c = new Client({ connectionString: pg.url });
    await c.connect();
    const rows = (
      await c.query<{ node_id: string; boot_id: string; n: string; distinct_seq: string }>(
        `SELECT node_id, boot_id, count(*) AS n, count(DISTINCT seq) AS distinct_seq
           FROM detection_events WHERE site_id = $1 GROUP BY node_id, boot_id`,
        [siteId],
      )
    ).rows;
    await c.end();
    expect(rows).toHaveLength(4);
    for (const d of sim.devices) {
      expect(rows.find((r) => r.boot_id === d.bootId)).toMatchObject({ n: '2500', distinct_seq: '2500' });
    }
  });
});
