/**
 * Memory of a realistic edge agent per camera, for `npm run bench:edge` (scripts/bench/bench-edge.ts).
 *
 * The real CLI (`edge/src/main.ts --config`, started through tsx as `npm run start:edge` and the e2e tests start it)
 * runs with N file cameras (looping, paced in real time like live cameras, 10 detections/s each), each with a
 * counting line and a no-parking zone, publishing to a real broker under a unique site id. Once every camera's
 * heartbeat shows analysed frames, the RSS of the node process and of its ffmpeg decoders is sampled for a while.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import { parseMessages, type EdgeConfigInput } from '@vigil/contracts';
import mqtt from 'mqtt';
import { stringify } from 'yaml';

import { findRepoRoot } from '../../edge/src/detect/model-manifest.loader';
import { childrenRss, processRss } from './process-rss';

/** One agent process: that many cameras, and detector sessions fixed in its settings or (absent) sized by the agent. */
export interface AgentRunSpec {
  cameras: number;
  sessions?: number;
}

/** 1, 2, 4 and 8 cameras (8: the node's design point) as the agent sizes itself; 8 again on one session. */
export const DEFAULT_AGENT_RUNS: AgentRunSpec[] = [
  { cameras: 1 },
  { cameras: 2 },
  { cameras: 4 },
  { cameras: 8 },
  { cameras: 8, sessions: 1 },
];

export interface AgentRssOptions {
  /** One agent process per entry. Default DEFAULT_AGENT_RUNS. */
  runs?: AgentRunSpec[];
  /** Sampling window per agent once all its cameras run. Default 20 s. */
  seconds?: number;
  brokerUrl?: string;
  /** Clips (absolute paths), assigned to cameras in turn. */
  clips: string[];
  modelId?: string;
  detectFps?: number;
  /**
   * What runs the agent: `dist` = the compiled build (`node dist/edge/src/main.js`, as deploy/systemd runs it; the
   * caller builds first), `tsx` = the sources through the tsx loader (`npm run start:edge`). Default `dist`.
   */
  entry?: 'dist' | 'tsx';
}

/** The command line of the agent for an entry. */
export function agentArgs(entry: 'dist' | 'tsx', settingsFile: string): string[] {
  return entry === 'dist'
    ? [path.join(REPO, 'dist/edge/src/main.js'), '--config', settingsFile]
    : ['--import', 'tsx', path.join(REPO, 'edge/src/main.ts'), '--config', settingsFile];
}

interface Spread {
  median: number;
  max: number;
}

export interface AgentRssRun {
  cameras: number;
  /** Detector sessions the agent ran (from its log), and whether the settings fixed the number. */
  sessions: number;
  sessionsFixed: boolean;
  /** The agent's node process. */
  nodeRssMb: Spread;
  /** Its ffmpeg decoders (one per camera): RSS summed, and with their shared pages counted once. */
  ffmpegRssMb: Spread;
  ffmpegOnceMb: Spread;
  /** node + decoders' RSS summed: counts ffmpeg's shared libraries once per decoder. */
  totalRssMb: Spread;
  /**
   * node RSS + every decoder's private pages + the largest decoder's shared pages: the edge's memory with ffmpeg's
   * libraries counted once, as on an edge box where nothing else maps them (independent of other processes here).
   */
  totalMb: Spread;
  samples: number;
  /** Seconds from spawn until every camera's heartbeat showed analysed frames. */
  startupS: number;
  /** Per camera, from the heartbeats of the sampling window: analysed frames/s and mean inference ms. */
  fps: number[];
  inferenceMs: number[];
}

export interface AgentRssResult {
  runs: AgentRssRun[];
  /** An idle `node --import tsx` process: the runtime every figure above includes. */
  runtimeFloorMb: number;
  /** An idle plain `node` process, for comparison (a compiled build runs without tsx). */
  plainNodeMb: number;
  detectFps: number;
  modelId: string;
  entry: 'dist' | 'tsx';
}

const REPO = findRepoRoot();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};
const spread = (xs: number[]): Spread => ({ median: median(xs), max: xs.length ? Math.max(...xs) : 0 });

function agentConfig(clips: string[], cameras: number, modelId: string, detectFps: number): EdgeConfigInput {
  const ids = Array.from({ length: cameras }, (_, i) => `cam-${i + 1}`);
  return {
    version: 1,
    issuedAt: new Date().toISOString(),
    detection: { modelId },
    cameras: ids.map((id, i) => ({
      id,
      name: `Bench camera ${i + 1}`,
      source: { kind: 'file', path: clips[i % clips.length], loop: true },
      detectFps,
    })),
    zones: ids.map((cameraId) => ({
      id: `${cameraId}-kerb`,
      cameraId,
      name: 'No parking',
      kind: 'no_parking',
      polygon: [
        [0.55, 0.0],
        [1.0, 0.0],
        [1.0, 0.45],
        [0.55, 0.45],
      ],
    })),
    lines: ids.map((cameraId) => ({
      id: `${cameraId}-line`,
      cameraId,
      name: 'Count line',
      start: [0.34, 0.62],
      end: [1.0, 0.62],
      directions: { a_to_b: 'down', b_to_a: 'up' },
    })),
    rules: ids.flatMap((cameraId) => [
      { id: `${cameraId}-parking`, kind: 'parking_violation', zoneId: `${cameraId}-kerb`, dwellSeconds: 20 },
      { id: `${cameraId}-count`, kind: 'line_count', lineId: `${cameraId}-line`, intervalSeconds: 60 },
    ]),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function runAgent(options: AgentRssOptions, spec: AgentRunSpec): Promise<AgentRssRun> {
  const { cameras } = spec;
  const brokerUrl = options.brokerUrl ?? 'mqtt://127.0.0.1:1883';
  const modelId = options.modelId ?? 'yolox_nano_416';
  const detectFps = options.detectFps ?? 10;
  const siteId = `bench-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-bench-'));
  const settingsFile = path.join(dir, 'edge.yaml');
  writeFileSync(
    settingsFile,
    stringify({
      node: { siteId, nodeId: 'node-1' },
      broker: { url: brokerUrl },
      dataDir: path.join(dir, 'data'),
      heartbeatSeconds: 5,
      summarySeconds: 0,
      ...(spec.sessions ? { detector: { sessions: spec.sessions } } : {}),
      config: agentConfig(options.clips, cameras, modelId, detectFps),
    }),
  );
  const heartbeats: { at: number; cameras: { fps: number; inferenceMs: number }[] }[] = [];
  const retained = new Set<string>();
  const checker = await mqtt.connectAsync(brokerUrl, { clientId: `${siteId}-checker`, clean: true });
  checker.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) retained.add(topic);
    for (const m of parseMessages(topic, payload)) {
      if (m.ok && m.kind === 'heartbeat') heartbeats.push({ at: Date.now(), cameras: m.message.cameras });
    }
  });
  await checker.subscribeAsync(`vigil/v1/edge/${siteId}/#`, { qos: 1 });

  const t0 = Date.now();
  const child = spawn(process.execPath, agentArgs(options.entry ?? 'dist', settingsFile), {
    cwd: REPO,
    // info: the detector's session count is logged when it loads and when the agent resizes it.
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let sessions = 0;
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
    for (const m of b.toString().matchAll(/"sessions":(\d+)/g)) sessions = Number(m[1]);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  try {
    const running = () => heartbeats.some((h) => h.cameras.length === cameras && h.cameras.every((c) => c.fps > 0));
    while (!running()) {
      if (child.exitCode !== null) throw new Error(`edge agent exited ${child.exitCode}: ${log}`);
      if (Date.now() - t0 > 90_000) throw new Error(`edge agent with ${cameras} cameras never ran: ${log}`);
      await sleep(200);
    }
    const startupS = (Date.now() - t0) / 1000;
    const windowStart = Date.now();
    const s = { node: [] as number[], ffmpeg: [] as number[], ffmpegOnce: [] as number[], total: [] as number[] };
    while (Date.now() - windowStart < (options.seconds ?? 20) * 1000) {
      const self = processRss(child.pid!);
      if (!self) throw new Error(`edge agent died: ${log}`);
      const decoders = childrenRss(child.pid!).filter((p) => p.command === 'ffmpeg');
      const ffPrivate = decoders.reduce((a, p) => a + p.privateMb, 0);
      const ffShared = Math.max(0, ...decoders.map((p) => p.rssMb - p.privateMb));
      s.node.push(self.rssMb);
      s.ffmpeg.push(decoders.reduce((a, p) => a + p.rssMb, 0));
      s.ffmpegOnce.push(ffPrivate + ffShared);
      s.total.push(self.rssMb + ffPrivate + ffShared);
      await sleep(500);
    }
    const inWindow = heartbeats.filter((h) => h.at > windowStart && h.cameras.length === cameras);
    const perCamera = (pick: (c: { fps: number; inferenceMs: number }) => number) =>
      Array.from({ length: cameras }, (_, i) => median(inWindow.map((h) => pick(h.cameras[i]))));
    return {
      cameras,
      sessions,
      sessionsFixed: spec.sessions !== undefined,
      nodeRssMb: spread(s.node),
      ffmpegRssMb: spread(s.ffmpeg),
      ffmpegOnceMb: spread(s.ffmpegOnce),
      totalRssMb: spread(s.node.map((x, i) => x + s.ffmpeg[i])),
      totalMb: spread(s.total),
      samples: s.node.length,
      startupS,
      fps: perCamera((c) => c.fps),
      inferenceMs: perCamera((c) => c.inferenceMs),
    };
  } finally {
    await stopChild(child);
    // Leave nothing retained on the shared broker under the bench's site id.
    for (const topic of retained) await checker.publishAsync(topic, '', { qos: 1, retain: true });
    await checker.endAsync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RSS of an idle node process (with the tsx loader or without), the floor under every agent figure. */
async function idleRss(withTsx: boolean): Promise<number> {
  const args = [...(withTsx ? ['--import', 'tsx'] : []), '-e', 'setTimeout(() => undefined, 10000)'];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: 'ignore' });
  try {
    await sleep(2500);
    return processRss(child.pid!)?.rssMb ?? 0;
  } finally {
    await stopChild(child);
  }
}

export async function benchAgentRss(options: AgentRssOptions): Promise<AgentRssResult> {
  const runs: AgentRssRun[] = [];
  for (const spec of options.runs ?? DEFAULT_AGENT_RUNS) runs.push(await runAgent(options, spec));
  return {
    entry: options.entry ?? 'dist',
    runs,
    runtimeFloorMb: await idleRss(true),
    plainNodeMb: await idleRss(false),
    detectFps: options.detectFps ?? 10,
    modelId: options.modelId ?? 'yolox_nano_416',
  };
}
