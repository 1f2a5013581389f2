import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { topics } from '@vigil/contracts';
import { EdgeDelivery } from '../edge/src/outbox/edge-delivery.service';
import { Outbox, OUTBOX_FILE } from '../edge/src/outbox/outbox.store';
import { cameraStatusItem, crossingItem } from '../edge/src/outbox/testing/outbox-messages';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, uniqueId, waitFor } from './support/services';

// A message the centre refuses at validation must not hold its node: before, the commit mark stopped at its seq,
// the centre asked for a replay every grace period, and the edge kept that entry and every later one until
// eviction (7 days). Here a real edge outbox carries one entry the centre's contract refuses (as an edge with an
// older contract would send: a NUL in a camera status reason), between ordinary ones, through the broker into the
// centre: the refused seq is closed as rejected, the acks pass it, and the outbox empties.
jest.setTimeout(120_000);

const GRACE_MS = 500;

describe('a message refused at validation', () => {
  let db: ScratchDatabase;
  let centre: CentreProcess;
  let dir: string;

  beforeAll(async () => {
    db = await ScratchDatabase.create();
    centre = await CentreProcess.startOnSharedBroker({
      DATABASE_URL: db.url,
      INGEST_GAP_GRACE_MS: String(GRACE_MS),
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-refused-'));
  });

  afterAll(async () => {
    await centre?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes its seq: the edge outbox empties, the dead letter names the seq, nothing is replayed', async () => {
    const node = { siteId: uniqueId('refused'), nodeId: 'node-1' };
    // Written by one process, patched while the outbox is closed (it holds its file exclusively), delivered by the
    // next boot: entries never published take their seqs from the boot that publishes them.
    const writer = Outbox.open({ dir, node });
    writer.enqueueMany([crossingItem(1), crossingItem(2)]);
    const status = cameraStatusItem(0);
    if (status.kind !== 'camera_status') throw new Error('expected a camera status');
    writer.enqueue({ ...status, message: { ...status.message, state: 'failed', reason: 'MARK', frameSize: null } });
    writer.enqueueMany([crossingItem(3), crossingItem(4)]);
    writer.close();
    // What an edge on a looser contract would have stored: the JSON escape of NUL in the reason.
    const raw = new Database(path.join(dir, OUTBOX_FILE));
    const changed = raw
      .prepare(
        "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'MARK', 'rtsp\\u0000oops') AS BLOB) WHERE instr(CAST(body AS TEXT), 'MARK') > 0",
      )
      .run().changes;
    raw.close();
    expect(changed).toBe(1);

    const delivery = EdgeDelivery.open({
      outbox: { dir, node },
      mqtt: { url: MOSQUITTO_URL, version: '0.1.0', configVersion: null, cameras: ['cam-1'], protocolVersion: 'auto' },
    });
    // Replay requests for this node, as the edge would receive them.
    const listener = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('replays') });
    let replays = 0;
    listener.on('message', () => replays++);
    await listener.subscribeAsync(topics.centre('replay', node), { qos: 1 });
    try {
      await delivery.start();
      // 1 node status + 5 entries, all acked once the refused one's seq is closed.
      await waitFor('the outbox to empty', () => delivery.outbox.depth === 0, 30_000);

      const dead = await db.query<{ code: string; path: string; seq: string; boot_id: string; topic: string }>(
        'SELECT code, path, seq, boot_id, topic FROM dead_letters WHERE topic LIKE $1',
        [`%/${node.siteId}/%`],
      );
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'reason', boot_id: delivery.bootId });
      const state = await db.query<{ committed_up_to: string; rejected: string }>(
        'SELECT committed_up_to, rejected FROM delivery_state WHERE site_id = $1 AND boot_id = $2',
        [node.siteId, delivery.bootId],
      );
      expect(state.map((s) => [Number(s.committed_up_to), Number(s.rejected)])).toEqual([[6, 1]]);
      expect(Number(dead[0].seq)).toBeGreaterThan(1);

      // Several grace periods later: no replay was asked for the refused seq.
      await new Promise((r) => setTimeout(r, 3 * GRACE_MS));
      const metrics = await (await fetch(`${centre.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`^vigil_ingest_rejected_seqs_total\\{site="${node.siteId}",node="node-1"\\} 1$`, 'm'),
      );
      expect(replays).toBe(0);
      expect(await centre.ready()).toBe(true);
    } finally {
      await delivery.stop(2000);
      await listener.endAsync();
    }
  });
});
