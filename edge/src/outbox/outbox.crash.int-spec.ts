import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMessage } from '@vigil/contracts';
import Database from 'better-sqlite3';
import { Outbox, OUTBOX_FILE } from './outbox.store';
import { tagOf } from './testing/outbox-messages';

// A writer process is SIGKILLed mid-stream (no close, no flush): everything it reported as written must be in the
// outbox when it is reopened, and every identity it handed out must be there unchanged.
jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WRITER = path.join(__dirname, 'testing', 'outbox-writer.child.ts');

/** Writers still running: a test that times out must not leave one writing for ever (jest would never exit). */
const running = new Set<ChildProcess>();

async function runAndKill(dir: string, killAfterTags: number): Promise<{ tags: Set<number>; assigned: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  const tags = new Set<number>();
  const assigned: string[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('close', (code, signal) => resolve(signal ?? code)),
  );
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [type, ...rest] = line.split(' ');
      if (type === 'E') for (const t of rest) tags.add(Number(t));
      else if (type === 'A') assigned.push(rest.join(' '));
    }
    if (tags.size >= killAfterTags && child.exitCode === null) child.kill('SIGKILL');
  });
  const how = await exited;
  if (how !== 'SIGKILL') throw new Error(`writer ended by ${String(how)} before the kill:\n${stderr}`);
  return { tags, assigned };
}

describe('outbox durability across SIGKILL', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-outbox-crash-'))));
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every committed entry and identity, twice in a row, and the file stays consistent', async () => {
    const first = await runAndKill(dir, 600);
    const second = await runAndKill(dir, 600);
    expect(first.assigned.length).toBeGreaterThan(50);
    expect(second.assigned.length).toBeGreaterThan(50);

    const db = new Database(path.join(dir, OUTBOX_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const outbox = Outbox.open({ dir, node: { siteId: 'crash', nodeId: 'writer' } });
    try {
      const all = outbox.takeForPublish(0, 1_000_000);
      const stored = new Map<string, number | null>();
      const storedTags: number[] = [];
      for (const e of all) {
        const r = parseMessage(e.topic, e.payload);
        if (!r.ok || r.kind === 'evidence_jpeg') throw new Error(`unreadable entry ${e.id}`);
        const tag = tagOf(r.message);
        stored.set(`${e.bootId} ${e.seq}`, tag);
        if (tag !== null) storedTags.push(tag);
      }
      // The second writer restarts its tags at 0, so each tag appears once per run.
      const counts = new Map<number, number>();
      for (const t of storedTags) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const t of first.tags) expect(counts.get(t) ?? 0).toBeGreaterThanOrEqual(1);
      for (const t of second.tags) expect(counts.get(t) ?? 0).toBeGreaterThanOrEqual(first.tags.has(t) ? 2 : 1);
      for (const a of [...first.assigned, ...second.assigned]) {
        const [bootId, seq, tag] = a.split(' ');
        expect(stored.get(`${bootId} ${seq}`)).toBe(tag === 'null' ? null : Number(tag));
      }
      // Identities of both dead boots are unique and contiguous from 1.
      const boots = new Map<string, number[]>();
      for (const key of stored.keys()) {
        const [bootId, seq] = key.split(' ');
        if (bootId === outbox.bootId) continue;
        boots.set(bootId, [...(boots.get(bootId) ?? []), Number(seq)]);
      }
      expect(boots.size).toBe(2);
      for (const seqs of boots.values()) {
        seqs.sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      }
    } finally {
      outbox.close();
    }
  });
});
