import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { ObjectClass } from '@vigil/contracts/common.schema';
import { InferenceSession, Tensor } from 'onnxruntime-node';

import { createDecoder } from './decoders/decoder.registry';
import {
  createDecodeContext,
  type DecodeContext,
  type ModelIo,
  type OutputDecoder,
  type TensorInfo,
} from './decoders/decoder.types';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { Detection, DetectorOptions, DetectTimings, RawFrame, ThreadOptions } from './detector.types';
import { assertFrame, FramePreprocessor } from './frame.preprocessor';
import { defaultIntraOpThreads } from './inference-threads';
import { frameBoxToUnit, type InputGeometry, inputBoxToFrame } from './letterbox';
import { MODELS_DIR_ENV } from './model-manifest.loader';
import type { ModelManifest } from './model-manifest.schema';
import { checkModelIo, checkRunOutputs } from './model-io.validator';
import { suppress } from './nms';

/** What produced a detection: goes into every event so an automated decision can be explained later. */
export interface DetectorProvenance {
  modelId: string;
  family: ModelManifest['family'];
  version: string;
  sha256: string;
  licence: string;
  /** Effective score threshold per class. */
  thresholds: Partial<Record<ObjectClass, number>>;
  nmsIou: number;
  vehicleMergeIou: number;
}

/** The detector plug-in contract: load once (with a warm-up), then detect frame after frame. */
export interface Detector {
  readonly manifest: ModelManifest;
  readonly provenance: DetectorProvenance;
  /** Stage times of the most recent detect(). */
  readonly lastTimings: DetectTimings;
  detect(frame: RawFrame): Promise<Detection[]>;
  close(): Promise<void>;
}

function toTensorInfo(meta: InferenceSession.ValueMetadata): TensorInfo {
  return meta.isTensor
    ? { name: meta.name, type: meta.type, shape: meta.shape }
    : { name: meta.name, type: 'non-tensor', shape: [] };
}

export function sessionIo(session: InferenceSession): ModelIo {
  return { inputs: session.inputMetadata.map(toTensorInfo), outputs: session.outputMetadata.map(toTensorInfo) };
}

export function checkIou(iou: number): void {
  if (!(iou >= 0 && iou <= 1)) throw new RangeError(`NMS IoU must lie in [0, 1], got ${iou}`);
}

function buildSessionOptions(threads: ThreadOptions): InferenceSession.SessionOptions {
  const opts: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: threads.executionMode ?? 'sequential',
    // Level 3 = errors only: NanoDet's export triggers hundreds of harmless initializer warnings.
    logSeverityLevel: 3,
  };
  const configured = { ...threads, intraOpNumThreads: threads.intraOpNumThreads ?? defaultIntraOpThreads() };
  // onnxruntime-node rejects an explicit undefined, so only set what was configured.
  for (const key of ['intraOpNumThreads', 'interOpNumThreads'] as const) {
    const n = configured[key];
    if (n === undefined) continue;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${key} must be a non-negative integer, got ${n}`);
    opts[key] = n;
  }
  return opts;
}

/**
 * Loads a model for its manifest: finds the file in `modelsDir`, verifies its sha256, opens an onnxruntime session,
 * checks the model's inputs/outputs against the manifest and the family's layout, and runs one warm-up inference
 * (the first run pays for memory planning and would otherwise land on the first camera frame). Every failure is a
 * DetectorError naming the file and what was expected.
 */
export async function loadDetector(
  manifest: ModelManifest,
  modelsDir: string,
  options: DetectorOptions = {},
): Promise<OnnxDetector> {
  const file = path.resolve(modelsDir, manifest.file);
  if (!existsSync(file)) {
    throw new DetectorError(
      DetectorErrorCode.MODEL_NOT_FOUND,
      `model file ${file} for manifest "${manifest.id}" does not exist (models directory: ${modelsDir}; set ${MODELS_DIR_ENV})`,
    );
  }
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const shaOk = options.verifySha256 === false || sha256 === manifest.sha256;

  const sessionOptions = buildSessionOptions(options.threads ?? {});
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, sessionOptions);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DetectorError(
      DetectorErrorCode.MODEL_CORRUPT,
      `${file} (${bytes.length} bytes${shaOk ? '' : `, sha256 ${sha256} != manifest ${manifest.sha256}`}) ` +
        `is not a loadable ONNX model: ${reason}`,
      { cause },
    );
  }
  try {
    if (!shaOk) {
      throw new DetectorError(
        DetectorErrorCode.CHECKSUM_MISMATCH,
        `${file}: sha256 ${sha256} but manifest "${manifest.id}" expects ${manifest.sha256} (a different or altered file)`,
      );
    }
    checkModelIo(manifest, sessionIo(session), file);
    const detector = new OnnxDetector(manifest, session, file, sha256, options);
    await detector.warmUp();
    return detector;
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Input buffers, allocated once and overwritten by every frame. */
export interface InputSlot {
  preprocessor: FramePreprocessor;
  feeds: Record<string, Tensor>;
  sizeData: BigInt64Array | undefined;
}

/** The model's input tensors over `input` (NCHW) and, for the DETR family, the frame size it decodes against. */
export function inputFeeds(
  manifest: ModelManifest,
  input: Float32Array,
  sizeData: BigInt64Array | undefined,
): Record<string, Tensor> {
  const [, , height, width] = manifest.input.shape;
  const feeds: Record<string, Tensor> = {
    [manifest.input.name]: new Tensor('float32', input, [1, 3, height, width]),
  };
  if (manifest.family === 'detr' && sizeData) feeds[manifest.decode.sizeInput] = new Tensor('int64', sizeData, [1, 2]);
  return feeds;
}

/** A pre-processor for the model's input and the buffers it fills. */
export function createInputSlot(manifest: ModelManifest, filter: 'bilinear' | 'nearest' = 'bilinear'): InputSlot {
  const [, , height, width] = manifest.input.shape;
  const preprocessor = new FramePreprocessor({
    width,
    height,
    colorOrder: manifest.input.colorOrder,
    normalization: manifest.input.normalization,
    resize: manifest.input.resize,
    filter,
  });
  const sizeData = manifest.family === 'detr' ? new BigInt64Array(2) : undefined;
  return { preprocessor, feeds: inputFeeds(manifest, preprocessor.tensor, sizeData), sizeData };
}

/** Fills a slot from a frame; returns where the frame landed in the input. */
export function prepareInput(slot: InputSlot, frame: RawFrame): InputGeometry {
  const geometry = slot.preprocessor.run(frame);
  if (slot.sizeData) {
    slot.sizeData[0] = BigInt(frame.width);
    slot.sizeData[1] = BigInt(frame.height);
  }
  return geometry;
}

/** What one inference on prepared input gives. */
export interface PreparedResult {
  detections: Detection[];
  inferenceMs: number;
  decodeMs: number;
}

export class OnnxDetector implements Detector {
  provenance: DetectorProvenance;
  lastTimings: DetectTimings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 };

  private readonly decoder: OutputDecoder;
  private readonly ctx: DecodeContext;
  private readonly classOf: (ObjectClass | undefined)[];
  private nmsIou: number;
  private vehicleMergeIou: number;
  /** Vehicle merge IoU follows nmsIou when neither the options nor the manifest set it. */
  private readonly mergeFollowsNms: boolean;
  private readonly maxDetections: number;
  private readonly slot: InputSlot;
  /** Separate buffers for prepareFeeds(), so a benchmark never disturbs a detect() in progress (made on first use). */
  private benchSlot: InputSlot | null = null;
  /** Median of the timed warm-up inferences, ms: what one frame costs this session's thread. */
  warmInferenceMs = 0;
  /** detect() calls run one after another, in call order: they share the input buffers. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly manifest: ModelManifest,
    /** Exposed for benchmarks (bare session.run on prepared tensors). */
    readonly session: InferenceSession,
    readonly file: string,
    sha256: string,
    readonly options: DetectorOptions,
  ) {
    this.decoder = createDecoder(manifest);
    this.slot = this.createSlot();

    const base = options.scoreThreshold ?? manifest.thresholds.score;
    this.classOf = new Array<ObjectClass | undefined>(manifest.numClasses).fill(undefined);
    const effective: Partial<Record<ObjectClass, number>> = {};
    const thresholdById = new Map<number, number>();
    for (const [key, cls] of Object.entries(manifest.classMap)) {
      const t = options.classThresholds?.[cls] ?? manifest.thresholds.perClass[cls] ?? base;
      thresholdById.set(Number(key), t);
      this.classOf[Number(key)] = cls;
      effective[cls] = t;
    }
    this.ctx = createDecodeContext(manifest.numClasses, thresholdById);
    this.nmsIou = options.nmsIou ?? manifest.thresholds.nmsIou;
    this.mergeFollowsNms = (options.vehicleMergeIou ?? manifest.thresholds.vehicleMergeIou) === undefined;
    this.vehicleMergeIou = options.vehicleMergeIou ?? manifest.thresholds.vehicleMergeIou ?? this.nmsIou;
    this.maxDetections = options.maxDetections ?? 300;
    this.provenance = {
      modelId: manifest.id,
      family: manifest.family,
      version: manifest.version,
      sha256,
      licence: manifest.licence,
      thresholds: effective,
      nmsIou: this.nmsIou,
      vehicleMergeIou: this.vehicleMergeIou,
    };
  }

  /** A new NMS IoU from the next frame on (a configuration change, applied without reloading the model). */
  setNmsIou(iou: number): void {
    checkIou(iou);
    this.nmsIou = iou;
    if (this.mergeFollowsNms) this.vehicleMergeIou = iou;
    this.provenance = { ...this.provenance, nmsIou: iou, vehicleMergeIou: this.vehicleMergeIou };
  }

  /**
   * Inferences on a grey frame of the input size: the first pays for memory planning and pins the real output dims
   * against the manifest; the median of three more estimates the steady inference time (for sizing; one run alone
   * varies by ±20 % on a shared machine).
   */
  async warmUp(): Promise<void> {
    const [, , height, width] = this.manifest.input.shape;
    const frame: RawFrame = { data: new Uint8Array(width * height * 3).fill(114), width, height, pixelFormat: 'bgr24' };
    const geometry = prepareInput(this.slot, frame);
    const outputs = await this.session.run(this.slot.feeds);
    checkRunOutputs(this.manifest, outputs, this.file);
    this.finish(outputs, geometry);
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await this.session.run(this.slot.feeds);
      ms.push(performance.now() - t0);
    }
    this.warmInferenceMs = ms.sort((x, y) => x - y)[1];
  }

  /**
   * Detects objects in one frame. Overlapping calls are queued and answered in call order. Note that
   * onnxruntime-node's run() executes on the calling JS thread (inside a setImmediate), so the event loop is busy
   * for the inference time; a host with many cameras should run the detector in a worker thread.
   */
  detect(frame: RawFrame): Promise<Detection[]> {
    if (this.closed) {
      return Promise.reject(
        new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${this.manifest.id} is closed`),
      );
    }
    try {
      assertFrame(frame);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const job = this.queue.then(() => this.detectNow(frame));
    // The queue only orders calls; each caller gets its own rejection.
    this.queue = job.catch(() => undefined);
    return job;
  }

  /**
   * Pre-processes a frame into fresh tensors (a copy, not a reused buffer), for benchmarks that time bare
   * `session.run` on already prepared inputs.
   */
  prepareFeeds(frame: RawFrame): Record<string, Tensor> {
    this.benchSlot ??= this.createSlot();
    prepareInput(this.benchSlot, frame);
    const copy: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(this.benchSlot.feeds)) {
      copy[name] =
        t.type === 'int64'
          ? new Tensor('int64', (t.data as BigInt64Array).slice(), t.dims)
          : new Tensor('float32', (t.data as Float32Array).slice(), t.dims);
    }
    return copy;
  }

  /** Waits for detections in flight, then frees the session; later detect() calls fail with DETECTOR_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.session.release();
  }

  private createSlot(): InputSlot {
    return createInputSlot(this.manifest, this.options.resizeFilter ?? 'bilinear');
  }

  private async detectNow(frame: RawFrame): Promise<Detection[]> {
    const t0 = performance.now();
    const geometry = prepareInput(this.slot, frame);
    const preprocessMs = performance.now() - t0;
    const r = await this.inferPrepared(this.slot.feeds, geometry);
    this.lastTimings = { preprocessMs, inferenceMs: r.inferenceMs, decodeMs: r.decodeMs };
    return r.detections;
  }

  /**
   * Inference and decoding on input already pre-processed (by `prepareInput`, possibly on another thread); the
   * geometry says where the frame landed in it.
   */
  async inferPrepared(feeds: Record<string, Tensor>, geometry: InputGeometry): Promise<PreparedResult> {
    const t1 = performance.now();
    let outputs: InferenceSession.ReturnType;
    try {
      outputs = await this.session.run(feeds);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new DetectorError(DetectorErrorCode.INFERENCE_FAILED, `${this.manifest.id}: ${reason}`, { cause });
    }
    const t2 = performance.now();
    const detections = this.finish(outputs, geometry);
    return { detections, inferenceMs: t2 - t1, decodeMs: performance.now() - t2 };
  }

  private finish(outputs: InferenceSession.ReturnType, geometry: InputGeometry): Detection[] {
    const raw = this.decoder.decode(outputs, this.ctx);
    const toUnit = this.decoder.boxSpace === 'input' ? inputBoxToFrame : frameBoxToUnit;
    const detections: Detection[] = [];
    for (const c of raw) {
      const cls = this.classOf[c.cocoId];
      if (!cls) continue;
      const box = toUnit(c.x1, c.y1, c.x2, c.y2, geometry);
      // A box that lies wholly in the letterbox padding clamps to nothing.
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      detections.push({ cls, score: c.score, box, cocoId: c.cocoId });
    }
    return suppress(detections, {
      iou: this.nmsIou,
      vehicleIou: this.vehicleMergeIou,
      maxDetections: this.maxDetections,
    });
  }
}
