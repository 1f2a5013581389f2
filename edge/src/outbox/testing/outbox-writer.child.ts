/**
 * Child process for the crash test: writes mixed messages into an outbox as fast as it can, in small transactions,
 * and hands them to "the publisher" (assigning identities). After each committed step it prints what is now durable:
 * `E <tag>...` for enqueued tags, `A <bootId> <seq> <tag>` for assigned identities. The parent kills it with SIGKILL.
 * Usage: node --import tsx outbox-writer.child.ts <dir>
 */
import { parseMessage } from '@vigil/contracts';
import { Outbox } from '../outbox.store';
import { mixedItem, tagOf } from './outbox-messages';

const dir = process.argv[2];
if (!dir) throw new Error('usage: outbox-writer.child.ts <dir>');
const outbox = Outbox.open({ dir, node: { siteId: 'crash', nodeId: 'writer' } });
let k = 0;
let cursor = 0;
for (;;) {
  const n = 1 + (k % 5);
  const tags = Array.from({ length: n }, (_, i) => k + i);
  outbox.enqueueMany(tags.map(mixedItem));
  k += n;
  process.stdout.write(`E ${tags.join(' ')}\n`);
  // Hands over a little more than it writes, so a restarted writer soon passes the dead one's entries.
  for (const e of outbox.takeForPublish(cursor, n + 2)) {
    cursor = e.id;
    const r = parseMessage(e.topic, e.payload);
    const tag = r.ok && r.kind !== 'evidence_jpeg' ? tagOf(r.message) : null;
    process.stdout.write(`A ${e.bootId} ${e.seq} ${tag}\n`);
  }
}
