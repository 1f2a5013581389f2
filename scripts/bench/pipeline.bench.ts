/**
 * Edge pipeline throughput against the bare model, for `npm run bench:edge` (scripts/bench/bench-edge.ts).
 *
 * A "block" is a run of N frames through one path; blocks of the path under test and of its baseline alternate
 * (the order flipping every round), so each pair runs seconds apart under the same load from other work on this
 * shared machine. Rates are medians over blocks, ratios medians of the per-round ratios.
 *
 * Capture blocks start a fresh `FrameCapture` on the clip as a file source, looping, not paced in real time, scaled
 * by ffmpeg to fit the model input (aspect kept, as CameraPipeline configures it) and newest-frame-wins: the rate is
 * what one camera's loop sustains when frames always wait. Timing starts when the first frame arrives, so ffmpeg's
 * start-up is not counted (a camera pays it once per connection). ffmpeg runs in its own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { EdgeConfig } from '@vigil/contracts';
import type { Tensor } from 'onnxruntime-node';

import { measureCaptureRate } from './capture.bench';
import type { CapturedFrame } from '../../edge/src/capture/capture.types';
import { FrameCapture } from '../../edge/src/capture/frame-capture.service';
import { detectEach } from '../../edge/src/detect/detect-each';
import { loadDetector, type Detector, type OnnxDetector } from '../../edge/src/detect/detector';
import type { Detection, RawFrame } from '../../edge/src/detect/detector.types';
import { WorkerDetector } from '../../edge/src/detect/worker-detector';
import { loadManifest, resolveModelsDir } from '../../edge/src/detect/model-manifest.loader';
import { Outbox } from '../../edge/src/outbox/outbox.store';
import type { OutboxItem } from '../../edge/src/outbox/outbox.types';
import { RulesEngine } from '../../edge/src/rules/rules-engine';
import type { RuleMessage } from '../../edge/src/rules/rules.types';
import { ByteTracker, DEFAULT_BYTE_TRACKER_OPTIONS } from '../../edge/src/track';
import { childrenRss } from './process-rss';

export interface BlockOptions {
  /** Alternating pairs of blocks. Default 4. */
  rounds?: number;
  /** Target duration of one block, from which the frames per block follow (10 to 300). Default 1.5 s. */
  blockSeconds?: number;
}

export interface CapturePipelineResult {
  /** Size ffmpeg delivers (fit inside the model input). */
  size: string;
  framesPerBlock: number;
  rounds: number;
  /** session.run on tensors prepared beforehand from frames this capture delivered. */
  bareFps: number;
  /** capture → pre-process → inference → decode (detector.detect on each frame the capture hands over). */
  pipelineFps: number;
  /** Median of per-round pipeline / bare. */
  ratio: number;
  /** Lowest and highest per-round ratio: the noise between blocks. */
  ratioRange: [number, number];
  /** Frames the newest-frame-wins mailbox overwrote, over frames decoded, in the pipeline blocks. */
  dropRate: number;
  /** The capture path alone (ffmpeg decode + scale + frame split, consumer taking every frame at once). */
  captureAloneFps: number;
  /** Largest RSS of an ffmpeg decoder process seen (a separate process: not in the node RSS). */
  ffmpegRssMb: number;
  /** Medians of detect()'s own stage times inside the pipeline blocks. */
  stageMs: { preprocess: number; inference: number; decode: number };
}

export interface FullPipelineResult {
  modelId: string;
  size: string;
  framesPerBlock: number;
  rounds: number;
  /** capture → detect. */
  detectFps: number;
  /** capture → detect → track → rules → outbox. */
  fullFps: number;
  /** Median of per-round full / detect. */
  ratio: number;
  /** Lowest and highest per-round ratio: the noise between blocks. */
  ratioRange: [number, number];
  /** Per analysed frame, over the full-pipeline blocks. */
  perFrameMs: Record<'track' | 'rules' | 'outbox' | 'total', { median: number; mean: number; p95: number }>;
  /** Mean track + rules + outbox time over the mean capture → detect frame time: the overhead without noise. */
  addedShare: number;
  /** Wall time of detector.detect() in each kind of block: shows effects on inference of what runs around it. */
  detectMs: Record<'detectOnly' | 'full', { median: number; mean: number; p95: number }>;
  framesAnalysed: number;
  tracksPerFrame: number;
  messages: Record<string, number>;
  outboxWrites: number;
}

interface BlockRun {
  ms: number;
  frames: number;
  decoded: number;
  dropped: number;
  ffmpegRssMb: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const p95 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] : 0;
};

function modelInput(detector: OnnxDetector): { width: number; height: number } {
  const [, , height, width] = detector.manifest.input.shape;
  return { width, height };
}

/**
 * Runs `frames` frames of a fresh looping capture of `clip` through `perFrame`. With `detector`, frames go through
 * the agent's loop (`detectEach`: the next frame is handed to the detector before this one is handled) and
 * `perFrame` receives the detections; without, `perFrame` does all the work one frame at a time.
 */
async function captureBlock(
  clip: string,
  fitInside: { width: number; height: number },
  frames: number,
  perFrame: (frame: CapturedFrame, detections: Detection[] | null) => Promise<void>,
  detector?: Pick<Detector, 'detect'>,
): Promise<BlockRun> {
  const capture = new FrameCapture({
    source: { kind: 'file', path: clip, loop: true },
    output: { ...fitInside, fit: 'keep-aspect' },
  });
  capture.start();
  let n = 0;
  let t0 = 0;
  let t1 = 0;
  let ffmpegRssMb = 0;
  const handled = async (frame: CapturedFrame, detections: Detection[] | null) => {
    await perFrame(frame, detections);
    if (++n === frames) t1 = performance.now();
    if (n === frames >> 1) {
      for (const p of childrenRss(process.pid))
        if (p.command === 'ffmpeg') ffmpegRssMb = Math.max(ffmpegRssMb, p.rssMb);
    }
  };
  // The block's clock starts when its first frame arrives.
  async function* timed(source: AsyncIterable<CapturedFrame>): AsyncGenerator<CapturedFrame> {
    for await (const frame of source) {
      if (t0 === 0) t0 = performance.now();
      yield frame;
    }
  }
  try {
    if (detector) {
      await detectEach(timed(capture.frames()), detector, handled, () => n >= frames);
    } else {
      for await (const frame of timed(capture.frames())) {
        await handled(frame, null);
        if (n >= frames) break;
      }
    }
  } finally {
    await capture.close();
  }
  if (n < frames)
    throw new Error(`capture of ${clip} ended after ${n} frames: ${capture.status?.reason ?? 'no status'}`);
  const { framesDecoded, framesDropped } = capture.counters;
  return { ms: t1 - t0, frames: n, decoded: framesDecoded, dropped: framesDropped, ffmpegRssMb };
}

async function bareBlock(detector: OnnxDetector, feeds: Record<string, Tensor>[], frames: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) await detector.session.run(feeds[i % feeds.length]);
  return performance.now() - t0;
}

const copyFrame = (f: CapturedFrame): RawFrame => ({
  data: Buffer.from(f.data),
  width: f.width,
  height: f.height,
  pixelFormat: 'bgr24',
});

/** Frames per block for a path whose frame takes `msPerFrame`. */
function blockFrames(msPerFrame: number, blockSeconds: number): number {
  return Math.max(10, Math.min(300, Math.round((blockSeconds * 1000) / Math.max(msPerFrame, 0.1))));
}

/** Warms a capture → detect path up and returns frames it delivered (copies), the baseline's input. */
async function warmUp(detector: OnnxDetector, clip: string): Promise<RawFrame[]> {
  const frames: RawFrame[] = [];
  await captureBlock(clip, modelInput(detector), 20, async (f) => {
    frames.push(copyFrame(f));
    await detector.detect(f);
  });
  return frames;
}

/**
 * Issue 4: capture → pre-process → inference → decode frames/s of one model on one clip, next to bare session.run
 * on frames of the same capture.
 */
export async function benchCapturePipeline(
  detector: OnnxDetector,
  clip: string,
  options: BlockOptions = {},
): Promise<CapturePipelineResult> {
  const rounds = options.rounds ?? 4;
  const frames = await warmUp(detector, clip);
  const feeds = frames.map((f) => detector.prepareFeeds(f));
  // Same model and settings, as the agent runs it: its own thread.
  const pipeline = await WorkerDetector.load(detector.manifest, resolveModelsDir(), detector.options);
  try {
    return await measurePipeline(detector, pipeline, clip, frames, feeds, rounds, options);
  } finally {
    await pipeline.close();
  }
}

async function measurePipeline(
  detector: OnnxDetector,
  pipeline: WorkerDetector,
  clip: string,
  frames: RawFrame[],
  feeds: Record<string, Tensor>[],
  rounds: number,
  options: BlockOptions,
): Promise<CapturePipelineResult> {
  await captureBlock(clip, modelInput(detector), 20, () => Promise.resolve(), pipeline);
  const n = blockFrames((await bareBlock(detector, feeds, 10)) / 10, options.blockSeconds ?? 1.5);
  const bareFps: number[] = [];
  const pipeFps: number[] = [];
  const ratios: number[] = [];
  const timings = { preprocess: [] as number[], inference: [] as number[], decode: [] as number[] };
  let decoded = 0;
  let dropped = 0;
  let ffmpegRssMb = 0;
  // The agent's path: inference on the detector's own thread, one frame in flight ahead (detectEach).
  const pipelineBlock = () =>
    captureBlock(
      clip,
      modelInput(detector),
      n,
      () => {
        const t = pipeline.lastTimings;
        timings.preprocess.push(t.preprocessMs);
        timings.inference.push(t.inferenceMs);
        timings.decode.push(t.decodeMs);
        return Promise.resolve();
      },
      pipeline,
    );
  for (let r = 0; r < rounds; r++) {
    let bareMs = 0;
    let pipe: BlockRun;
    if (r % 2 === 0) {
      bareMs = await bareBlock(detector, feeds, n);
      pipe = await pipelineBlock();
    } else {
      pipe = await pipelineBlock();
      bareMs = await bareBlock(detector, feeds, n);
    }
    const b = (1000 * n) / bareMs;
    const p = (1000 * pipe.frames) / pipe.ms;
    bareFps.push(b);
    pipeFps.push(p);
    ratios.push(p / b);
    decoded += pipe.decoded;
    dropped += pipe.dropped;
    ffmpegRssMb = Math.max(ffmpegRssMb, pipe.ffmpegRssMb);
  }
  const size = `${frames[0].width}x${frames[0].height}`;
  const alone = await measureCaptureRate({ clip, ...modelInput(detector), fit: 'keep-aspect', maxFrames: 300 });
  return {
    size,
    framesPerBlock: n,
    rounds,
    bareFps: median(bareFps),
    pipelineFps: median(pipeFps),
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    dropRate: decoded ? dropped / decoded : 0,
    captureAloneFps: alone.framesPerSecond,
    ffmpegRssMb,
    stageMs: {
      preprocess: median(timings.preprocess),
      inference: median(timings.inference),
      decode: median(timings.decode),
    },
  };
}

/** The agent's mapping of a rule message to an outbox item (edge-agent.ts). */
function toItem(cameraId: string, m: RuleMessage): OutboxItem {
  return { kind: m.kind, cameraId, message: { ...m.body, ts: new Date(m.atMs).toISOString() } } as OutboxItem;
}

export interface FullPipelineOptions extends BlockOptions {
  modelId: string;
  clip: string;
  /** Zones, lines and rules of the camera `cameraId`. */
  config: EdgeConfig;
  cameraId: string;
}

/**
 * Issue 5: capture → detect → track → rules → outbox frames/s next to capture → detect, with the detector, tracker,
 * rules engine and durable outbox configured as the agent configures them (detector down to the tracker's low-score
 * floor, outbox with an fsync per commit in a directory of the real disk). Tracker, rules and outbox keep their
 * state across blocks, on a media clock that keeps running.
 */
export async function benchFullPipeline(options: FullPipelineOptions): Promise<FullPipelineResult> {
  const { config, cameraId, clip } = options;
  const rounds = options.rounds ?? 4;
  const detector = await loadDetector(loadManifest(options.modelId), resolveModelsDir(), {
    scoreThreshold: DEFAULT_BYTE_TRACKER_OPTIONS.lowScore,
    nmsIou: config.detection.nmsIou,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pipeline-bench-'));
  const outbox = Outbox.open({ dir, node: { siteId: 'bench', nodeId: 'node-1' } });
  try {
    const tracker = new ByteTracker({ highScore: config.detection.scoreThreshold });
    const engine = new RulesEngine(config, {
      cameraId,
      model: {
        modelId: detector.provenance.modelId,
        sha256: detector.provenance.sha256,
        scoreThreshold: config.detection.scoreThreshold,
        nmsIou: detector.provenance.nmsIou,
        classThresholds: config.detection.classThresholds,
        trackerId: 'bytetrack-v1',
      },
    });
    const per = { track: [] as number[], rules: [] as number[], outbox: [] as number[], total: [] as number[] };
    const messages: Record<string, number> = {};
    let outboxWrites = 0;
    let tracks = 0;
    // Media time, kept increasing across blocks (each block's capture restarts the clip at 0).
    let clock = Date.parse('2026-11-23T08:00:00Z');
    let blockStart = clock;

    let size = '';
    const detectMs = { detectOnly: [] as number[], full: [] as number[] };
    const detectOnly = async (f: CapturedFrame) => {
      size = `${f.width}x${f.height}`;
      const t0 = performance.now();
      await detector.detect(f);
      detectMs.detectOnly.push(performance.now() - t0);
    };
    const full = async (f: CapturedFrame) => {
      const td = performance.now();
      const detections = await detector.detect(f);
      detectMs.full.push(performance.now() - td);
      const t = blockStart + f.ptsMs;
      clock = Math.max(clock, t);
      const t0 = performance.now();
      const tracked = tracker.update(detections, clock);
      const t1 = performance.now();
      const out = engine.process(tracked, clock);
      const t2 = performance.now();
      if (out.messages.length > 0) {
        outbox.enqueueMany(out.messages.map((m) => toItem(cameraId, m)));
        outboxWrites++;
      }
      const t3 = performance.now();
      per.track.push(t1 - t0);
      per.rules.push(t2 - t1);
      per.outbox.push(t3 - t2);
      per.total.push(t3 - t0);
      tracks += tracked.length;
      for (const m of out.messages) messages[m.kind] = (messages[m.kind] ?? 0) + 1;
    };
    const fullBlock = (n: number) => {
      blockStart = clock + 1000;
      return captureBlock(clip, modelInput(detector), n, full);
    };

    await warmUp(detector, clip);
    await fullBlock(20);
    for (const k of Object.keys(per) as (keyof typeof per)[]) per[k].length = 0;
    for (const k of Object.keys(messages)) delete messages[k];
    outboxWrites = 0;
    tracks = 0;
    detectMs.full.length = 0;
    const probe = await captureBlock(clip, modelInput(detector), 10, detectOnly);
    const n = blockFrames(probe.ms / probe.frames, options.blockSeconds ?? 1.5);
    detectMs.detectOnly.length = 0;

    const detectFps: number[] = [];
    const fullFps: number[] = [];
    const ratios: number[] = [];
    const detectMsPerFrame: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let a: BlockRun;
      let b: BlockRun;
      if (r % 2 === 0) {
        a = await captureBlock(clip, modelInput(detector), n, detectOnly);
        b = await fullBlock(n);
      } else {
        b = await fullBlock(n);
        a = await captureBlock(clip, modelInput(detector), n, detectOnly);
      }
      detectFps.push((1000 * a.frames) / a.ms);
      fullFps.push((1000 * b.frames) / b.ms);
      ratios.push(fullFps[r] / detectFps[r]);
      detectMsPerFrame.push(a.ms / a.frames);
    }
    const stats = (xs: number[]) => ({ median: median(xs), mean: mean(xs), p95: p95(xs) });
    return {
      modelId: options.modelId,
      size,
      framesPerBlock: n,
      rounds,
      detectFps: median(detectFps),
      fullFps: median(fullFps),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      perFrameMs: {
        track: stats(per.track),
        rules: stats(per.rules),
        outbox: stats(per.outbox),
        total: stats(per.total),
      },
      addedShare: mean(per.total) / mean(detectMsPerFrame),
      detectMs: { detectOnly: stats(detectMs.detectOnly), full: stats(detectMs.full) },
      framesAnalysed: per.total.length,
      tracksPerFrame: per.total.length ? tracks / per.total.length : 0,
      messages,
      outboxWrites,
    };
  } finally {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
    await detector.close();
  }
}
