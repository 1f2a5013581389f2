import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

import { createInputSlot, prepareInput, type Detector, type DetectorProvenance, type InputSlot } from './detector';
import type { DetectorWorkerData, FromDetectorWorker, ToDetectorWorker } from './detector-worker.protocol';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { Detection, DetectorOptions, DetectTimings, RawFrame } from './detector.types';
import { assertFrame } from './frame.preprocessor';
import type { ModelManifest } from './model-manifest.schema';

/** Frames pre-processed ahead: one in the worker, one being prepared (double buffering). */
const SLOTS = 2;

interface Pending {
  slot: InputSlot;
  preprocessMs: number;
  resolve: (d: Detection[]) => void;
  reject: (e: Error) => void;
}

/** The worker entry next to this file: compiled JavaScript in a build, TypeScript through tsx from the sources. */
function startWorker(data: DetectorWorkerData): Worker {
  const compiled = path.join(__dirname, 'detector.worker.js');
  // The worker's own objects are few and short-lived (tensors live outside the V8 heap): a small young generation
  // keeps its heap from growing to the default's tens of MB.
  const resourceLimits = { maxYoungGenerationSizeMb: 4 };
  if (existsSync(compiled)) return new Worker(compiled, { workerData: data, resourceLimits });
  const source = path.join(__dirname, 'detector.worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, {
    eval: true,
    workerData: data,
    resourceLimits,
  });
}

/**
 * A detector whose inference runs on its own thread. onnxruntime-node's run() blocks the thread that calls it for the
 * whole inference (10-100 ms); on the main thread that stalls capture, tracking, rules and MQTT for every camera. Here
 * the main thread pre-processes a frame into one of two input buffers and hands it over (transferred, not copied);
 * while the worker runs it, the next frame can be captured and pre-processed into the other buffer. Answers come
 * back in call order.
 */
export class WorkerDetector implements Detector {
  lastTimings: DetectTimings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 };

  private readonly free: InputSlot[];
  /** detect() calls waiting for a buffer, first come first served (answers then stay in call order). */
  private readonly waitingForSlot: ((slot: InputSlot | null) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly accepted = new Set<Promise<void>>();
  private closed = false;
  private failure: Error | null = null;
  private closedByWorker: (() => void) | null = null;

  private constructor(
    readonly manifest: ModelManifest,
    readonly provenance: DetectorProvenance,
    private readonly worker: Worker,
    options: DetectorOptions,
  ) {
    this.free = Array.from({ length: SLOTS }, () => createInputSlot(manifest, options.resizeFilter ?? 'bilinear'));
    worker.on('message', (m: FromDetectorWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`detector worker exited with code ${code}`));
      this.closedByWorker?.();
    });
  }

  /** Starts the worker, which loads and warms the model; fails with the same DetectorError a direct load gives. */
  static async load(
    manifest: ModelManifest,
    modelsDir: string,
    options: DetectorOptions = {},
  ): Promise<WorkerDetector> {
    const worker = startWorker({ manifest, modelsDir, options });
    const first = await new Promise<FromDetectorWorker | Error>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', resolve);
      worker.once('exit', (code) => resolve(new Error(`detector worker exited with code ${code} while loading`)));
    });
    if (first instanceof Error || first.type !== 'ready') {
      await worker.terminate();
      if (first instanceof Error) {
        throw new DetectorError(DetectorErrorCode.WORKER_FAILED, first.message, { cause: first });
      }
      if (first.type === 'load-failed') throw new DetectorError(first.code as DetectorErrorCode, first.message);
      throw new DetectorError(DetectorErrorCode.WORKER_FAILED, `unexpected first message ${first.type}`);
    }
    return new WorkerDetector(manifest, first.provenance, worker, options);
  }

  detect(frame: RawFrame): Promise<Detection[]> {
    if (this.closed) {
      return Promise.reject(
        new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${this.manifest.id} is closed`),
      );
    }
    const job = this.run(frame);
    // close() answers every call accepted before it.
    const settled = job.then(
      () => undefined,
      () => undefined,
    );
    this.accepted.add(settled);
    void settled.then(() => this.accepted.delete(settled));
    return job;
  }

  private async run(frame: RawFrame): Promise<Detection[]> {
    if (this.failure) throw this.failure;
    assertFrame(frame);
    const slot = await this.takeSlot();
    const t0 = performance.now();
    let geometry;
    try {
      geometry = prepareInput(slot, frame);
    } catch (err) {
      this.giveSlot(slot);
      throw err;
    }
    const preprocessMs = performance.now() - t0;
    const id = this.nextId++;
    const input = slot.preprocessor.tensor;
    return new Promise<Detection[]>((resolve, reject) => {
      this.pending.set(id, { slot, preprocessMs, resolve, reject });
      const m: ToDetectorWorker = { type: 'infer', id, input, frameSize: [frame.width, frame.height], geometry };
      this.worker.postMessage(m, [input.buffer as ArrayBuffer]);
    });
  }

  /** Answers what is in flight, then stops the worker; later detect() calls fail with DETECTOR_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.accepted);
    if (this.failure) {
      await this.worker.terminate();
      return;
    }
    const exited = new Promise<void>((r) => (this.closedByWorker = r));
    this.worker.postMessage({ type: 'close' } satisfies ToDetectorWorker);
    await new Promise<void>((resolve) => {
      const onMessage = (m: FromDetectorWorker) => {
        if (m.type !== 'closed') return;
        this.worker.off('message', onMessage);
        resolve();
      };
      this.worker.on('message', onMessage);
      void exited.then(resolve);
    });
    await this.worker.terminate();
  }

  private onMessage(m: FromDetectorWorker): void {
    if (m.type !== 'result' && m.type !== 'failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    // The main thread never runs these feeds: only the preprocessor's tensor travels.
    p.slot.preprocessor.adopt(m.input);
    this.giveSlot(p.slot);
    if (m.type === 'result') {
      this.lastTimings = { preprocessMs: p.preprocessMs, inferenceMs: m.inferenceMs, decodeMs: m.decodeMs };
      p.resolve(m.detections);
    } else {
      p.reject(new DetectorError(m.code as DetectorErrorCode, m.message));
    }
  }

  private fail(err: Error): void {
    this.failure = new DetectorError(DetectorErrorCode.WORKER_FAILED, `detector worker failed: ${err.message}`, {
      cause: err,
    });
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    for (const wake of this.waitingForSlot.splice(0)) wake(null);
  }

  private async takeSlot(): Promise<InputSlot> {
    const slot = this.waitingForSlot.length === 0 ? this.free.pop() : undefined;
    if (slot) return slot;
    const handed = await new Promise<InputSlot | null>((r) => this.waitingForSlot.push(r));
    if (!handed) throw this.failure ?? new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, 'detector closed');
    return handed;
  }

  /** A returned buffer goes straight to the longest waiting detect(), or back to the free list. */
  private giveSlot(slot: InputSlot): void {
    const next = this.waitingForSlot.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
