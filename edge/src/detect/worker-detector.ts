import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

import {
  checkIou,
  createInputSlot,
  prepareInput,
  type Detector,
  type DetectorProvenance,
  type InputSlot,
} from './detector';
import type { DetectorWorkerData, FromDetectorWorker, ToDetectorWorker } from './detector-worker.protocol';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import { backoffDelay } from '../common/backoff';
import type { Detection, DetectorOptions, DetectTimings, RawFrame } from './detector.types';
import { assertFrame } from './frame.preprocessor';
import type { ModelManifest } from './model-manifest.schema';

/** Input buffers per session: one in the worker, one being prepared (double buffering). */
const SLOTS_PER_SESSION = 2;

/** One worker thread with its own onnxruntime session. */
interface Session {
  worker: Worker;
  inFlight: number;
  /** Frames answered by this session (its share of the work). */
  answered: number;
  /** Taken out of dispatch by resize(); stopped once its in-flight frames are answered. */
  retiring: boolean;
  stopped: Promise<void> | null;
  /** Woken when the session holds no frame (or its worker is lost). */
  idleWaiters: (() => void)[];
  /** Its worker died unexpectedly: out of the pool, a replacement is on its way. */
  lost: boolean;
}

interface Pending {
  slot: InputSlot;
  session: Session;
  preprocessMs: number;
  resolve: (d: Detection[]) => void;
  reject: (e: Error) => void;
}

interface Loaded {
  worker: Worker;
  provenance: DetectorProvenance;
  warmInferenceMs: number;
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

/** Starts one worker, which loads and warms the model; fails with the same DetectorError a direct load gives. */
async function loadSession(manifest: ModelManifest, modelsDir: string, options: DetectorOptions): Promise<Loaded> {
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
  return { worker, provenance: first.provenance, warmInferenceMs: first.warmInferenceMs };
}

async function loadSessions(
  manifest: ModelManifest,
  modelsDir: string,
  options: DetectorOptions,
  count: number,
): Promise<Loaded[]> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, () => loadSession(manifest, modelsDir, options)),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return results.map((r) => (r as PromiseFulfilledResult<Loaded>).value);
  const started = results.filter((r): r is PromiseFulfilledResult<Loaded> => r.status === 'fulfilled');
  await Promise.all(started.map((r) => r.value.worker.terminate()));
  throw failed.reason;
}

function checkSessionCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`detector sessions must be an integer >= 1, got ${n}`);
}

/**
 * A detector whose inference runs on worker threads, each with its own onnxruntime session. onnxruntime-node's run()
 * blocks the thread that calls it for the whole inference (10-100 ms); on the main thread that stalls capture,
 * tracking, rules and MQTT for every camera. Here the main thread pre-processes a frame into an input buffer and hands
 * it over (transferred, not copied) to the session with the least work; meanwhile the next frame can be captured and
 * pre-processed into another buffer.
 *
 * One session runs one inference at a time. On a node with more cameras than one inference thread keeps up with,
 * several single-threaded sessions (resize()) serve more frames per second than one session with several intra-op
 * threads: the sessions share nothing, where intra-op threads synchronise on every operator (BENCHMARKS.md).
 * Each call gets its own frame's detections; with more than one session, calls may finish out of call order.
 *
 * A worker that dies (an exception, its heap limit) fails only the frames it held, with WORKER_FAILED; a replacement
 * session loads at once, then with backoff (1 s up to 60 s) while loading fails, and frames wait for it meanwhile.
 */
export class WorkerDetector implements Detector {
  lastTimings: DetectTimings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 };

  private readonly sessions: Session[] = [];
  private readonly free: InputSlot[] = [];
  /** Buffers wanted (free, being prepared or in a worker); after a shrink, surplus buffers are dropped as they return. */
  private slotCount = 0;
  /** Buffers handed to detect() calls and not yet back. */
  private outstanding = 0;
  /** detect() calls waiting for a buffer, first come first served. */
  private readonly waitingForSlot: ((slot: InputSlot | null) => void)[] = [];
  /** Prepared frames waiting for a session (while a lost one is being replaced). */
  private readonly waitingForSession: ((s: Session | null) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly accepted = new Set<Promise<void>>();
  private closed = false;
  /** resize() calls run one after another. */
  private resizing: Promise<void> = Promise.resolve();
  /** Replacements of lost sessions being loaded (or waiting to retry). */
  private readonly replacing = new Set<NodeJS.Timeout | Promise<void>>();
  private readonly lostListeners: ((err: DetectorError) => void)[] = [];
  /** Sessions lost and replaced since load. */
  restarts = 0;

  private constructor(
    readonly manifest: ModelManifest,
    private current: DetectorProvenance,
    /** The first session's warm-up inference time (median of three), ms: an estimate of one frame's cost. */
    readonly warmInferenceMs: number,
    private readonly modelsDir: string,
    private options: DetectorOptions,
    loaded: Loaded[],
  ) {
    for (const l of loaded) this.addSession(l.worker);
  }

  /** The model and the thresholds in force (nmsIou as last set). */
  get provenance(): DetectorProvenance {
    return this.current;
  }

  /**
   * A new NMS IoU for every frame handed over from now on, in every session (and in sessions started later), without
   * reloading the model. Frames already handed over finish with the previous value.
   */
  setNmsIou(iou: number): void {
    checkIou(iou);
    this.options = { ...this.options, nmsIou: iou };
    const follows =
      this.options.vehicleMergeIou === undefined && this.manifest.thresholds.vehicleMergeIou === undefined;
    this.current = { ...this.current, nmsIou: iou, vehicleMergeIou: follows ? iou : this.current.vehicleMergeIou };
    for (const s of this.sessions) {
      if (!s.lost) s.worker.postMessage({ type: 'configure', nmsIou: iou } satisfies ToDetectorWorker);
    }
  }

  /**
   * Starts `sessions` workers (default 1), each loading and warming the model; fails with the same DetectorError a
   * direct load gives.
   */
  static async load(
    manifest: ModelManifest,
    modelsDir: string,
    options: DetectorOptions = {},
    sessions = 1,
  ): Promise<WorkerDetector> {
    checkSessionCount(sessions);
    const loaded = await loadSessions(manifest, modelsDir, options, sessions);
    return new WorkerDetector(manifest, loaded[0].provenance, loaded[0].warmInferenceMs, modelsDir, options, loaded);
  }

  /** Sessions taking new frames (a lost session counts until its replacement is running: it is wanted). */
  get sessionCount(): number {
    return this.live().length + this.replacing.size;
  }

  /** Frames answered by each session taking new frames, in the order they were started. */
  get answeredBySession(): number[] {
    return this.live().map((s) => s.answered);
  }

  /** Frames handed to sessions and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Called with the error each time a session's worker dies (its replacement is already on its way). */
  onSessionLost(listener: (err: DetectorError) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Grows or shrinks the pool to `n` sessions. New sessions load beside the running ones (frames keep flowing);
   * a removed session takes no new frames and stops once it has answered the ones it holds.
   */
  async resize(n: number): Promise<void> {
    checkSessionCount(n);
    const next = this.resizing.then(() => this.resizeNow(n));
    this.resizing = next.catch(() => undefined);
    return next;
  }

  private async resizeNow(n: number): Promise<void> {
    if (this.closed) {
      throw new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${this.manifest.id} is closed`);
    }
    const count = this.sessionCount;
    if (n > count) {
      const loaded = await loadSessions(this.manifest, this.modelsDir, this.options, n - count);
      if (this.closed) {
        await Promise.all(loaded.map((l) => l.worker.terminate()));
        throw new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, 'detector closed while resizing');
      }
      for (const l of loaded) this.addSession(l.worker);
      return;
    }
    // The newest sessions go first; the rest keep their warm state.
    const retired = this.live().slice(Math.max(0, n - this.replacing.size));
    for (const s of retired) s.retiring = true;
    this.slotCount -= retired.length * SLOTS_PER_SESSION;
    this.free.splice(0, Math.max(0, this.free.length + this.outstanding - this.slotCount));
    await Promise.all(retired.map((s) => this.stopWhenIdle(s)));
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
    const session = this.leastBusy() ?? (await new Promise<Session | null>((r) => this.waitingForSession.push(r)));
    if (!session) {
      this.giveSlot(slot);
      throw new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${this.manifest.id} is closed`);
    }
    const id = this.nextId++;
    const input = slot.preprocessor.tensor;
    return new Promise<Detection[]>((resolve, reject) => {
      this.pending.set(id, { slot, session, preprocessMs, resolve, reject });
      session.inFlight++;
      const m: ToDetectorWorker = { type: 'infer', id, input, frameSize: [frame.width, frame.height], geometry };
      session.worker.postMessage(m, [input.buffer as ArrayBuffer]);
    });
  }

  /**
   * Answers what is in flight, then stops the workers; later detect() calls fail with DETECTOR_CLOSED (and so do
   * calls still waiting for a lost session's replacement).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.replacing) if (!(r instanceof Promise)) clearTimeout(r);
    await Promise.all([...this.replacing].filter((r): r is Promise<void> => r instanceof Promise));
    if (this.live().length === 0) {
      for (const wake of this.waitingForSlot.splice(0)) wake(null);
      for (const wake of this.waitingForSession.splice(0)) wake(null);
    }
    await Promise.all(this.accepted);
    await this.resizing;
    for (const wake of this.waitingForSlot.splice(0)) wake(null);
    await Promise.all(this.sessions.map((s) => this.stopWhenIdle(s)));
  }

  private live(): Session[] {
    return this.sessions.filter((s) => !s.retiring && !s.lost);
  }

  private addSession(worker: Worker): void {
    const session: Session = {
      worker,
      inFlight: 0,
      answered: 0,
      retiring: false,
      stopped: null,
      idleWaiters: [],
      lost: false,
    };
    this.sessions.push(session);
    worker.on('message', (m: FromDetectorWorker) => this.onMessage(session, m));
    worker.on('error', (err) => this.lose(session, err));
    worker.on('exit', (code) => this.lose(session, new Error(`detector worker exited with code ${code}`)));
    for (let i = 0; i < SLOTS_PER_SESSION; i++) {
      this.slotCount++;
      this.outstanding++;
      this.giveSlot(createInputSlot(this.manifest, this.options.resizeFilter ?? 'bilinear'));
    }
    for (const wake of this.waitingForSession.splice(0)) wake(session);
  }

  /** The session with the fewest frames in hand (the first of equals: sessions fill in a stable order). */
  private leastBusy(): Session | null {
    let best: Session | null = null;
    for (const s of this.sessions) {
      if (!s.retiring && !s.lost && (!best || s.inFlight < best.inFlight)) best = s;
    }
    return best;
  }

  /** A worker died while it was wanted: fail the frames it held, drop its buffers, start its replacement. */
  private lose(session: Session, cause: Error): void {
    if (session.lost || session.retiring || this.closed) return;
    session.lost = true;
    this.sessions.splice(this.sessions.indexOf(session), 1);
    const err = new DetectorError(DetectorErrorCode.WORKER_FAILED, `detector worker failed: ${cause.message}`, {
      cause,
    });
    // Its buffers went to the dead thread (transferred): the replacement brings new ones.
    this.slotCount -= SLOTS_PER_SESSION;
    this.free.splice(0, Math.max(0, this.free.length + this.outstanding - this.slotCount));
    for (const [id, p] of this.pending) {
      if (p.session !== session) continue;
      this.pending.delete(id);
      this.outstanding--;
      p.reject(err);
    }
    session.inFlight = 0;
    for (const wake of session.idleWaiters.splice(0)) wake();
    void session.worker.terminate();
    for (const l of this.lostListeners) l(err);
    this.replace(1);
  }

  private replace(attempt: number): void {
    const load: Promise<void> = this.loadReplacement(attempt).finally(() => this.replacing.delete(load));
    this.replacing.add(load);
  }

  private async loadReplacement(attempt: number): Promise<void> {
    try {
      const [l] = await loadSessions(this.manifest, this.modelsDir, this.options, 1);
      if (this.closed) {
        await l.worker.terminate();
        return;
      }
      this.addSession(l.worker);
      this.restarts++;
    } catch {
      if (this.closed) return;
      const timer = setTimeout(() => {
        this.replacing.delete(timer);
        this.replace(attempt + 1);
      }, backoffDelay(attempt));
      this.replacing.add(timer);
    }
  }

  /** Once the session has answered what it holds: asks its worker to release the model, then ends the thread. */
  private stopWhenIdle(session: Session): Promise<void> {
    session.retiring = true;
    session.stopped ??= (async () => {
      if (session.inFlight > 0) await new Promise<void>((r) => session.idleWaiters.push(r));
      if (!session.lost) {
        await new Promise<void>((resolve) => {
          const onMessage = (m: FromDetectorWorker) => {
            if (m.type !== 'closed') return;
            session.worker.off('message', onMessage);
            resolve();
          };
          session.worker.on('message', onMessage);
          session.worker.once('exit', () => resolve());
          session.worker.postMessage({ type: 'close' } satisfies ToDetectorWorker);
        });
      }
      await session.worker.terminate();
      const i = this.sessions.indexOf(session);
      if (i >= 0) this.sessions.splice(i, 1);
    })();
    return session.stopped;
  }

  private onMessage(session: Session, m: FromDetectorWorker): void {
    if (m.type !== 'result' && m.type !== 'failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    session.inFlight--;
    session.answered++;
    if (session.inFlight === 0) for (const wake of session.idleWaiters.splice(0)) wake();
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

  private async takeSlot(): Promise<InputSlot> {
    const slot = this.waitingForSlot.length === 0 ? this.free.pop() : undefined;
    if (slot) {
      this.outstanding++;
      return slot;
    }
    const handed = await new Promise<InputSlot | null>((r) => this.waitingForSlot.push(r));
    if (!handed) throw new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${this.manifest.id} is closed`);
    return handed;
  }

  /**
   * A buffer coming back goes straight to the longest waiting detect() (still outstanding), or back to the free list,
   * or away when a shrink left more buffers than wanted.
   */
  private giveSlot(slot: InputSlot): void {
    this.outstanding--;
    if (this.free.length + this.outstanding >= this.slotCount) return;
    const next = this.waitingForSlot.shift();
    if (next) {
      this.outstanding++;
      next(slot);
    } else this.free.push(slot);
  }
}
