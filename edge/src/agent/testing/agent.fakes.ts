import type { Heartbeat, NodeRef } from '@vigil/contracts';

import type { CaptureSource, CaptureStatus, CapturedFrame } from '../../capture/capture.types';
import type { DetectorProvenance } from '../../detect/detector';
import type { Detection, DetectTimings, RawFrame } from '../../detect/detector.types';
import type { ModelManifest } from '../../detect/model-manifest.schema';
import { prepareEntry } from '../../outbox/outbox-payload';
import type { EnqueueResult, OutboxItem } from '../../outbox/outbox.types';
import type { FrameSource } from '../camera-pipeline';
import type { AgentDetector, DeliveryPort } from '../edge-agent';

const NODE: NodeRef = { siteId: 'site-1', nodeId: 'node-1' };
const BOOT = '5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01';

/** An outbox that validates every message against its contract as the real one does, and keeps them in memory. */
export class MemoryDelivery implements DeliveryPort {
  readonly bootId = BOOT;
  readonly items: OutboxItem[] = [];

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  enqueue(item: OutboxItem): EnqueueResult {
    return this.enqueueMany([item])[0];
  }

  enqueueMany(items: readonly OutboxItem[]): EnqueueResult[] {
    for (const item of items) prepareEntry(item, NODE, BOOT, Date.now());
    this.items.push(...items);
    return items.map((i, k) => ({ id: this.items.length - items.length + k + 1, kind: i.kind, stored: true }));
  }

  heartbeatOutbox(): Heartbeat['outbox'] {
    return { depth: 0, bytes: 0, oldestAgeS: null, evicted: {} };
  }

  messages<K extends OutboxItem['kind']>(kind: K): Extract<OutboxItem, { kind: K }>[] {
    return this.items.filter((i): i is Extract<OutboxItem, { kind: K }> => i.kind === kind);
  }
}

/** A detector whose answers the test decides: `answer(frame)` by default, or held until `release`. */
export class ScriptedDetector implements AgentDetector {
  lastTimings: DetectTimings = { preprocessMs: 0, inferenceMs: 5, decodeMs: 0 };
  provenance: DetectorProvenance;
  closed = false;
  sessionCount = 1;
  readonly warmInferenceMs = 5;
  readonly nmsIouSet: number[] = [];
  /** Frame seqs asked for, in order. */
  readonly asked: number[] = [];
  private readonly held = new Map<number, (d: Detection[]) => void>();
  hold = new Set<number>();

  constructor(
    readonly manifest: ModelManifest,
    nmsIou: number,
    private readonly answer: (frame: CapturedFrame) => Detection[] = () => [],
  ) {
    this.provenance = {
      modelId: manifest.id,
      family: manifest.family,
      version: manifest.version,
      sha256: manifest.sha256,
      licence: manifest.licence,
      thresholds: {},
      nmsIou,
      vehicleMergeIou: nmsIou,
    };
  }

  detect(frame: RawFrame): Promise<Detection[]> {
    const f = frame as CapturedFrame;
    this.asked.push(f.seq);
    if (this.hold.has(f.seq)) return new Promise((resolve) => this.held.set(f.seq, resolve));
    return Promise.resolve(this.answer(f));
  }

  /** Answers a held frame. */
  release(seq: number, frame: CapturedFrame): void {
    this.held.get(seq)?.(this.answer(frame));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  resize(n: number): Promise<void> {
    this.sessionCount = n;
    return Promise.resolve();
  }

  onSessionLost(): void {}

  setNmsIou(iou: number): void {
    this.nmsIouSet.push(iou);
    this.provenance = { ...this.provenance, nmsIou: iou };
  }
}

/** A frame source that delivers the frames it is given (`push`) and ends when closed. */
export class ScriptedSource implements FrameSource {
  readonly counters = { framesDropped: 0 };
  closed = false;
  started = false;
  private readonly queue: CapturedFrame[] = [];
  private wake: (() => void) | null = null;
  private listener: ((s: CaptureStatus) => void) | null = null;

  constructor(readonly source: CaptureSource) {}

  onStatus(listener: (s: CaptureStatus) => void): void {
    this.listener = listener;
  }

  start(): void {
    this.started = true;
  }

  status(s: Partial<CaptureStatus> & Pick<CaptureStatus, 'state'>): void {
    this.listener?.({
      reason: null,
      cause: 'streaming',
      attempt: 0,
      nextRetryMs: null,
      frameSize: null,
      at: Date.now(),
      counters: { framesDecoded: 0, framesDelivered: 0, framesDropped: 0, reconnects: 0, lastFrameAt: null },
      ...s,
    } as CaptureStatus);
  }

  push(...frames: CapturedFrame[]): void {
    this.queue.push(...frames);
    this.wake?.();
  }

  async *frames(): AsyncGenerator<CapturedFrame> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    return Promise.resolve();
  }
}

/** A grey frame of the model input size with this seq and capture time. */
export function frame(seq: number, capturedAt: number, width = 416, height = 416): CapturedFrame {
  return {
    data: Buffer.alloc(width * height * 3, 114),
    width,
    height,
    pixelFormat: 'bgr24',
    seq,
    ptsMs: seq * 100,
    capturedAt,
  };
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise((r) => setImmediate(r));
