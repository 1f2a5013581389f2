/**
 * Edge detection benchmark: `npm run bench:edge` (tsx scripts/bench-edge.ts [options]).
 *
 * For each model and clip, frames are decoded with ffmpeg first, then measured in stages against the same frames:
 *   bare     session.run on tensors pre-processed beforehand (the baseline: what the model alone can do)
 *   detect   detector.detect() on raw bgr24 frames: pre-processing + inference + decode + NMS
 * Stages are interleaved frame by frame (bare on frame i, then detect on frame i, order alternating), so each pair
 * runs within a few tens of milliseconds under the same load from other work on this shared machine; a stage's
 * ratio to the baseline is the median of the per-frame ratios, its rate 1000 / median milliseconds per frame.
 * Each model runs in its own child process so that its RSS is its own.
 *
 * A capture stage (ffmpeg decoding the clip in real time, feeding detect()) plugs in as one more entry of STAGES:
 * `runOne(ctx, i)` processes the clip's i-th frame once and says how long it took.
 *
 * Each clip is measured twice: frames at the clip's size (resized in TS), and frames ffmpeg already scaled to the
 * model's letterbox size (what a capture configured for the detection size delivers; pre-processing is a convert).
 *
 * Options: --frames N (per clip, default 20)  --rounds N (passes over the frames, default 5)  --models a,b  --clips x,y
 *          --threads N (intraOpNumThreads; default onnxruntime's)  --filter bilinear|nearest
 *          --no-write (print only, do not append to BENCHMARKS.md)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Tensor } from 'onnxruntime-node';

import { loadDetector, type OnnxDetector } from '../edge/src/detect/detector';
import type { RawFrame } from '../edge/src/detect/detector.types';
import { findRepoRoot, loadManifest, resolveModelsDir } from '../edge/src/detect/model-manifest.loader';
import { computeGeometry } from '../edge/src/detect/letterbox';
import { probeSize, readFrames, resolveVideosDir } from '../edge/src/detect/testing/read-frame';

interface BenchOptions {
  frames: number;
  rounds: number;
  models: string[];
  clips: string[];
  threads: number | undefined;
  filter: 'bilinear' | 'nearest';
  write: boolean;
}

/** What one stage measured on one clip. */
interface StageResult {
  stage: string;
  /** 1000 / median milliseconds per frame. */
  framesPerSecond: number;
  /** Median over frames of (baseline ms / this stage's ms) on the same frame, measured back to back. */
  ratioToBaseline: number;
  /** Median milliseconds per frame of each sub-step the stage can attribute (e.g. preprocess). */
  breakdownMs: Record<string, number>;
}

interface ClipResult {
  clip: string;
  size: string;
  frames: number;
  stages: StageResult[];
}

interface ModelResult {
  model: string;
  family: string;
  loadMs: number;
  clips: ClipResult[];
  /** Node + tsx before the model is loaded. */
  rssAtStartMb: number;
  /** After load and detect() on the first clip: node + onnxruntime + model + buffers + the frames held. */
  rssDetectMb: number;
  framesHeldMb: number;
}

/** Everything a stage needs for one model on one clip. */
interface StageContext {
  detector: OnnxDetector;
  frames: RawFrame[];
  /** The same frames already pre-processed, one feed set each (for the bare baseline). */
  feeds: Record<string, Tensor>[];
}

/** One way of processing frame i of a clip; returns its wall time and any sub-step times, in ms. */
interface Stage {
  name: string;
  runOne(ctx: StageContext, i: number): Promise<{ totalMs: number; breakdownMs: Record<string, number> }>;
}

const bareStage: Stage = {
  name: 'bare',
  async runOne({ detector, feeds }, i) {
    const t0 = performance.now();
    await detector.session.run(feeds[i]);
    return { totalMs: performance.now() - t0, breakdownMs: {} };
  },
};

const detectStage: Stage = {
  name: 'detect',
  async runOne({ detector, frames }, i) {
    const t0 = performance.now();
    await detector.detect(frames[i]);
    const { preprocessMs, inferenceMs, decodeMs } = detector.lastTimings;
    return {
      totalMs: performance.now() - t0,
      breakdownMs: { preprocess: preprocessMs, inference: inferenceMs, decode: decodeMs },
    };
  },
};

/** The first stage is the baseline every other stage is compared with. */
const STAGES: Stage[] = [bareStage, detectStage];

const DEFAULT_MODELS = ['yolox_nano_416', 'nanodet_m_416', 'deimv2_hgnetv2_atto_coco', 'yolov8n_int8'];
const DEFAULT_CLIPS = ['opencv_vtest.avi', 'bgslibrary_video02.avi'];
const CLIP_START_S = 5;
const MB = 2 ** 20;

function parseArgs(argv: string[]): BenchOptions & { child?: string } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const threads = get('threads');
  return {
    frames: Number(get('frames') ?? 20),
    rounds: Number(get('rounds') ?? 5),
    models: (get('models') ?? DEFAULT_MODELS.join(',')).split(','),
    clips: (get('clips') ?? DEFAULT_CLIPS.join(',')).split(','),
    threads: threads === undefined ? undefined : Number(threads),
    filter: get('filter') === 'nearest' ? 'nearest' : 'bilinear',
    write: !argv.includes('--no-write'),
    child: get('child'),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};

/** The clip's own size, and the same frames scaled by ffmpeg to the model's letterbox size. */
interface ClipVariant {
  label: string;
  scaleTo?: { width: number; height: number };
}

async function clipVariants(clipPath: string, detector: OnnxDetector): Promise<ClipVariant[]> {
  const { width, height } = await probeSize(clipPath);
  const [, , h, w] = detector.manifest.input.shape;
  const g = computeGeometry(width, height, w, h, detector.manifest.input.resize);
  const native: ClipVariant = { label: `${width}x${height}` };
  if (g.resizedWidth === width && g.resizedHeight === height) return [native];
  return [
    native,
    {
      label: `${width}x${height} -> ${g.resizedWidth}x${g.resizedHeight} by ffmpeg`,
      scaleTo: { width: g.resizedWidth, height: g.resizedHeight },
    },
  ];
}

async function benchClip(detector: OnnxDetector, frames: RawFrame[], rounds: number): Promise<StageResult[]> {
  const ctx: StageContext = { detector, frames, feeds: frames.map((f) => detector.prepareFeeds(f)) };
  // Warm every path (JIT, resize tables for this frame size, allocator) before timing.
  for (let i = 0; i < Math.min(5, frames.length); i++) for (const stage of STAGES) await stage.runOne(ctx, i);
  const totals = STAGES.map(() => [] as number[]);
  const parts: Record<string, number[]>[] = STAGES.map(() => ({}));
  let pair = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < frames.length; i++, pair++) {
      // Alternate which stage goes first, so neither always inherits the other's cache state.
      const order = pair % 2 === 0 ? STAGES.map((_, k) => k) : STAGES.map((_, k) => STAGES.length - 1 - k);
      for (const k of order) {
        const { totalMs, breakdownMs } = await STAGES[k].runOne(ctx, i);
        totals[k].push(totalMs);
        for (const [name, ms] of Object.entries(breakdownMs)) (parts[k][name] ??= []).push(ms);
      }
    }
  }
  return STAGES.map((s, k) => ({
    stage: s.name,
    framesPerSecond: 1000 / median(totals[k]),
    ratioToBaseline: median(totals[k].map((ms, j) => totals[0][j] / ms)),
    breakdownMs: Object.fromEntries(Object.entries(parts[k]).map(([name, v]) => [name, median(v)])),
  }));
}

/** Child: one model, all clips. Prints one JSON line. */
async function benchModel(modelId: string, opts: BenchOptions): Promise<ModelResult> {
  const rssAtStartMb = process.memoryUsage().rss / MB;
  const manifest = loadManifest(modelId);
  const t0 = performance.now();
  const detector = await loadDetector(manifest, resolveModelsDir(), {
    threads: opts.threads === undefined ? undefined : { intraOpNumThreads: opts.threads },
    resizeFilter: opts.filter,
  });
  const loadMs = performance.now() - t0;

  // Memory of the detect path alone (no copies of prepared tensors yet): a few frames of the first clip through
  // detect(), many times, before anything else is allocated.
  const firstClip = await readFrames(path.join(resolveVideosDir(), opts.clips[0]), CLIP_START_S, 5);
  for (let i = 0; i < 10; i++) for (const f of firstClip) await detector.detect(f);
  const rssDetectMb = process.memoryUsage().rss / MB;
  const framesHeldMb = firstClip.reduce((n, f) => n + f.data.length, 0) / MB;

  const clips: ClipResult[] = [];
  for (const clip of opts.clips) {
    const clipPath = path.join(resolveVideosDir(), clip);
    for (const variant of await clipVariants(clipPath, detector)) {
      const frames = await readFrames(clipPath, CLIP_START_S, opts.frames, variant.scaleTo);
      clips.push({
        clip,
        size: variant.label,
        frames: frames.length,
        stages: await benchClip(detector, frames, opts.rounds),
      });
    }
  }
  await detector.close();
  return { model: modelId, family: manifest.family, loadMs, clips, rssAtStartMb, rssDetectMb, framesHeldMb };
}

function runChild(modelId: string, argv: string[]): Promise<ModelResult> {
  return new Promise((resolve, reject) => {
    // Same node flags (tsx's loader) and script; one model per process so RSS is per model.
    const child = spawn(process.execPath, [...process.execArgv, __filename, ...argv, '--child', modelId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`bench child for ${modelId} exited ${code}`));
      resolve(JSON.parse(line) as ModelResult);
    });
  });
}

function machineInfo(): Record<string, string> {
  const cpus = os.cpus();
  const ortPkg = JSON.parse(
    readFileSync(path.join(findRepoRoot(), 'node_modules/onnxruntime-node/package.json'), 'utf8'),
  ) as { version: string };
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: String(cpus.length),
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.platform()} ${os.release()}`,
    node: process.version,
    'onnxruntime-node': ortPkg.version,
  };
}

function formatReport(results: ModelResult[], opts: BenchOptions, loadBefore: number[], loadAfter: number[]): string {
  const info = machineInfo();
  const baseline = STAGES[0].name;
  const others = STAGES.slice(1).map((s) => s.name);
  const lines: string[] = [];
  lines.push(`## Edge detection — ${new Date().toISOString()}`);
  lines.push('');
  lines.push(
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.memory}; ${info.os}; Node ${info.node}; ` +
      `onnxruntime-node ${info['onnxruntime-node']} (CPU EP, intraOpNumThreads ${opts.threads ?? 'default'}).`,
  );
  const busy = loadBefore[0] > 0.5 || loadAfter[0] > Number(info.cores);
  lines.push(
    `Load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after: ` +
      `${loadAfter.map((l) => l.toFixed(2)).join(' / ')}` +
      (busy ? ' — **other work was running on this machine during the run; absolute rates are noisy.**' : '.'),
  );
  lines.push(
    `Method: ${opts.frames} frames per clip from t=${CLIP_START_S} s decoded by ffmpeg to bgr24 up front; ` +
      `${opts.rounds} rounds, stages interleaved frame by frame; rate = 1000 / median ms per frame, ratio = median ` +
      `of per-frame ratios, sub-step times are medians; ` +
      `resize filter ${opts.filter}. ` +
      `\`${baseline}\` = session.run on pre-processed tensors; \`detect\` = pre-process + inference + decode + NMS ` +
      `on raw bgr24 frames. Each model runs in its own process; RSS is that process's.`,
  );
  lines.push('');
  const header = [
    'model',
    'clip (frames)',
    `${baseline} fps`,
    ...others.flatMap((o) => [`${o} fps`, `${o}/${baseline}`]),
    'preprocess ms',
    'inference ms',
    'decode ms',
  ];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map(() => '---').join('|')}|`);
  for (const r of results) {
    for (const c of r.clips) {
      const base = c.stages.find((s) => s.stage === baseline)!;
      const det = c.stages.find((s) => s.stage === 'detect');
      const cells = [
        r.model,
        `${c.clip} ${c.size}`,
        base.framesPerSecond.toFixed(1),
        ...others.flatMap((o) => {
          const s = c.stages.find((x) => x.stage === o)!;
          return [s.framesPerSecond.toFixed(1), `${(100 * s.ratioToBaseline).toFixed(0)} %`];
        }),
        (det?.breakdownMs.preprocess ?? 0).toFixed(2),
        (det?.breakdownMs.inference ?? 0).toFixed(2),
        (det?.breakdownMs.decode ?? 0).toFixed(2),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push(
    '| model | load ms | RSS at start MB (node + tsx) | RSS after detect MB | of which decoded frames held MB |',
  );
  lines.push('|---|---|---|---|---|');
  for (const r of results) {
    lines.push(
      `| ${r.model} | ${r.loadMs.toFixed(0)} | ${r.rssAtStartMb.toFixed(0)} | ${r.rssDetectMb.toFixed(0)} | ` +
        `${r.framesHeldMb.toFixed(0)} |`,
    );
  }
  lines.push('');
  lines.push('Target (issue 4): detect ≥ 85 % of bare; edge RSS ≤ 150 MB per camera.');
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  if (opts.child) {
    process.stdout.write(`${JSON.stringify(await benchModel(opts.child, opts))}\n`);
    return;
  }
  const loadBefore = os.loadavg();
  const results: ModelResult[] = [];
  for (const id of opts.models) {
    process.stderr.write(`bench-edge: ${id} ...\n`);
    results.push(await runChild(id, argv));
  }
  const report = formatReport(results, opts, loadBefore, os.loadavg());
  process.stdout.write(`${report}\n`);
  if (opts.write) {
    const file = path.join(findRepoRoot(), 'BENCHMARKS.md');
    if (!existsSync(file)) {
      writeFileSync(
        file,
        '# Benchmarks\n\nAppended by the `npm run bench:*` scripts; newest last. Never edited by hand.\n\n',
      );
    }
    appendFileSync(file, `${report}\n`);
    process.stderr.write(`bench-edge: appended to ${file}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-edge failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
