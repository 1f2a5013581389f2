import { EdgeSimulator } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, uniqueId } from './support/services';

// The centre is killed with SIGKILL mid-stream and restarted: every event the simulator created must be stored
// exactly once. The simulator's history (its per-device boot id and seq counter) is the checker.
jest.setTimeout(180_000);

describe('centre crash during ingest', () => {
  let db: ScratchDatabase;
  let centre: CentreProcess;
  let sim: EdgeSimulator;

  beforeAll(async () => {
    db = await ScratchDatabase.create();
    centre = await CentreProcess.startOnSharedBroker({ DATABASE_URL: db.url, INGEST_GAP_GRACE_MS: '1000' });
  });

  afterAll(async () => {
    await sim?.close();
    await centre?.stop();
    await db?.drop();
  });

  it('stores every created event exactly once across a SIGKILL and restart', async () => {
    const siteId = uniqueId('crash');
    sim = new EdgeSimulator({
      url: MOSQUITTO_URL,
      siteId,
      devices: 5,
      ratePerDevice: 300,
      messagesPerDevice: 3000,
      resendAfterMs: 3000,
    });
    await sim.connect();
    const running = sim.run();
    await new Promise((r) => setTimeout(r, 3000));
    const beforeKill = await db.query<{ n: string }>('SELECT count(*) AS n FROM detection_events');
    await centre.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await centre.start();
    await running;
    expect(await sim.waitUntilAllCommitted(90_000)).toBe(true);

    const created = sim.totals().created;
    expect(created).toBe(15_000);
    expect(Number(beforeKill[0].n)).toBeGreaterThan(0);
    expect(Number(beforeKill[0].n)).toBeLessThan(created);
    const rows = await db.query<{ node_id: string; boot_id: string; n: string; distinct_seq: string; max_seq: string }>(
      `SELECT node_id, boot_id, count(*) AS n, count(DISTINCT seq) AS distinct_seq, max(seq) AS max_seq
         FROM detection_events WHERE site_id = $1 GROUP BY node_id, boot_id ORDER BY node_id`,
      [siteId],
    );
    expect(rows).toHaveLength(5);
    for (const d of sim.devices) {
      const row = rows.find((r) => r.node_id === d.node.nodeId && r.boot_id === d.bootId);
      expect(row).toMatchObject({ n: '3000', distinct_seq: '3000', max_seq: '3000' });
    }
    // The centre acknowledged every stream up to its last message (other sites on the shared broker are not ours).
    const state = await db.query<{ committed_up_to: string }>(
      'SELECT committed_up_to FROM delivery_state WHERE site_id = $1',
      [siteId],
    );
    expect(state.map((s) => Number(s.committed_up_to))).toEqual([3000, 3000, 3000, 3000, 3000]);
  });
});
