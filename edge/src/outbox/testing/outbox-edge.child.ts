/**
 * An edge process for delivery tests: opens the outbox in OUTBOX_DIR, connects to MQTT_URL as node SITE_ID/NODE_ID,
 * and produces COUNT tagged messages (tags FROM, FROM+1, ...) at RATE per second, a few per "frame" in one
 * transaction, then waits until the centre has committed everything and shuts down cleanly.
 * Prints `B <bootId>` at start, `E <tags...>` after each durable enqueue, `D <stats json>` when drained.
 */
import { EdgeDelivery } from '../edge-delivery.service';
import { mixedItem } from './outbox-messages';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

async function main(): Promise<void> {
  const from = Number(env('FROM', '0'));
  const count = Number(env('COUNT'));
  const rate = Number(env('RATE', '50'));
  const delivery = EdgeDelivery.open({
    outbox: { dir: env('OUTBOX_DIR'), node: { siteId: env('SITE_ID'), nodeId: env('NODE_ID') } },
    mqtt: {
      url: env('MQTT_URL'),
      version: '0.1.0',
      configVersion: null,
      cameras: ['cam-1'],
      protocolVersion: env('PROTOCOL', 'auto') === 'auto' ? 'auto' : (Number(env('PROTOCOL')) as 4 | 5),
      reconnect: { initialMs: 200, maxMs: 2000 },
    },
    publisher: { resendAfterMs: Number(env('RESEND_MS', '3000')), window: 16 },
  });
  process.stdout.write(`B ${delivery.bootId}\n`);
  await delivery.start();
  const started = Date.now();
  let k = from;
  while (k < from + count) {
    const n = Math.min(1 + (k % 3), from + count - k);
    const tags = Array.from({ length: n }, (_, i) => k + i);
    delivery.enqueueMany(tags.map(mixedItem));
    process.stdout.write(`E ${tags.join(' ')}\n`);
    k += n;
    const due = started + ((k - from) * 1000) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  const drained = await delivery.publisher.drain(240_000);
  process.stdout.write(
    `D ${JSON.stringify({ drained, stats: delivery.outbox.stats(), counters: delivery.publisher.counters })}\n`,
  );
  const stopped = await delivery.stop(10_000);
  process.stdout.write(`S ${JSON.stringify(stopped)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
