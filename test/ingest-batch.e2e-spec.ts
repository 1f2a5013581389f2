import { randomUUID } from 'node:crypto';
import { encodeBatch, topics } from '@vigil/contracts';
import mqtt from 'mqtt';
import { EdgeSimulator, simulatedEvent } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, uniqueId } from './support/services';

// Edges that send their backlog as `batch` messages, through a real Mosquitto into the centre and PostgreSQL:
// every entry stored exactly once, holes (entries never sent the first time) found per entry and replayed, and a
// bad entry dead-lettered alone under its own topic while the rest of its batch is stored.
jest.setTimeout(120_000);

describe('batched edge delivery', () => {
  let db: ScratchDatabase;
  let centre: CentreProcess;
  let sim: EdgeSimulator | undefined;

  beforeAll(async () => {
    db = await ScratchDatabase.create();
    centre = await CentreProcess.startOnSharedBroker({ DATABASE_URL: db.url, INGEST_GAP_GRACE_MS: '500' });
  });

  afterAll(async () => {
    await sim?.close();
    await centre?.stop();
    await db?.drop();
  });

  it('stores every batched entry exactly once and replays the holes entry by entry', async () => {
    const siteId = uniqueId('batch');
    sim = new EdgeSimulator({
      url: MOSQUITTO_URL,
      siteId,
      devices: 3,
      ratePerDevice: 1000,
      messagesPerDevice: 2000,
      resendAfterMs: 20_000,
      batchEntries: 50,
      // Holes inside batches: these entries are left out of their batch and must come back through replay.
      skipFirstSend: (_device, seq) => seq % 97 === 0,
    });
    await sim.connect();
    await sim.run();
    expect(await sim.waitUntilAllCommitted(60_000)).toBe(true);
    expect(sim.totals()).toMatchObject({ created: 6000, unacked: 0 });
    // Every hole was asked for by the centre (replay), not found by the simulator's own resend timer.
    expect(sim.devices.every((d) => d.replayRequests > 0)).toBe(true);

    const rows = await db.query<{ node_id: string; boot_id: string; n: string; distinct_seq: string }>(
      `SELECT node_id, boot_id, count(*) AS n, count(DISTINCT seq) AS distinct_seq
         FROM detection_events WHERE site_id = $1 GROUP BY node_id, boot_id ORDER BY node_id`,
      [siteId],
    );
    expect(rows.map((r) => [r.node_id, r.boot_id, r.n, r.distinct_seq])).toEqual(
      sim.devices.map((d) => [d.node.nodeId, d.bootId, '2000', '2000']),
    );
  });

  it('dead-letters a bad entry under its own topic and stores its neighbours', async () => {
    const node = { siteId: uniqueId('batch-bad'), nodeId: 'node-1' };
    const bootId = randomUUID();
    const suffix = 'camera/cam-1/event';
    const good = (seq: number) => ({
      suffix,
      payload: Buffer.from(JSON.stringify(simulatedEvent(bootId, seq, new Date()))),
    });
    const bad = {
      suffix,
      payload: Buffer.from(JSON.stringify({ ...simulatedEvent(bootId, 2, new Date()), score: 7 })),
    };
    const client = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('batch-bad'), clean: true });
    try {
      await client.publishAsync(topics.edgeNode('batch', node), encodeBatch([good(1), bad, good(3)]), { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const deadline = Date.now() + 20_000;
    let stored: { seq: string }[] = [];
    let dead: { topic: string; code: string; path: string }[] = [];
    while (Date.now() < deadline) {
      stored = await db.query('SELECT seq FROM detection_events WHERE site_id = $1 ORDER BY seq', [node.siteId]);
      dead = await db.query('SELECT topic, code, path FROM dead_letters WHERE topic LIKE $1', [`%/${node.siteId}/%`]);
      if (stored.length === 2 && dead.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stored.map((r) => Number(r.seq))).toEqual([1, 3]);
    expect(dead).toEqual([
      { topic: topics.edgeCamera('event', { ...node, cameraId: 'cam-1' }), code: 'INVALID_PAYLOAD', path: 'score' },
    ]);
  });
});
