/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadDetector, type OnnxDetector } from './detector';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { Detection, RawFrame } from './detector.types';
import { loadManifest, resolveModelsDir } from './model-manifest.loader';
import { readFrameAt, resolveVideosDir } from './testing/read-frame';
import { WorkerDetector } from './worker-detector';

jest.setTimeout(60_000);

const round = (ds: Detection[]) =>
  ds.map((d) => ({ cls: d.cls, score: d.score.toFixed(4), box: d.box.map((v) => v.toFixed(4)) }));

/** The same real models on the same real frames, inference on the worker thread vs on the calling thread. */
describe.each(['yolox_nano_416', 'deimv2_hgnetv2_atto_coco'])('WorkerDetector (%s)', (id) => {
  let direct: OnnxDetector;
  let worker: WorkerDetector;
  let frames: RawFrame[];

  beforeAll(async () => {
    const videos = resolveVideosDir();
    frames = [
      await readFrameAt(path.join(videos, 'opencv_vtest.avi'), 10),
      await readFrameAt(path.join(videos, 'bgslibrary_video02.avi'), 10),
    ];
    direct = await loadDetector(loadManifest(id), resolveModelsDir());
    worker = await WorkerDetector.load(loadManifest(id), resolveModelsDir());
  });

  afterAll(async () => {
    await direct?.close();
    await worker?.close();
  });

  it('finds exactly what the in-thread detector finds, with the same provenance', async () => {
    expect(worker.provenance).toEqual(direct.provenance);
    for (const frame of frames) {
      const expected = await direct.detect(frame);
      expect(expected.length).toBeGreaterThan(3);
      expect(round(await worker.detect(frame))).toEqual(round(expected));
    }
    expect(worker.lastTimings.inferenceMs).toBeGreaterThan(0);
  });

  it('applies a new NMS IoU live, in every session, as the in-thread detector does', async () => {
    const pool = await WorkerDetector.load(loadManifest(id), resolveModelsDir(), { scoreThreshold: 0.05 }, 2);
    const reference = await loadDetector(loadManifest(id), resolveModelsDir(), { scoreThreshold: 0.05 });
    const found: number[] = [];
    try {
      for (const iou of [0.05, 0.95]) {
        pool.setNmsIou(iou);
        reference.setNmsIou(iou);
        expect(pool.provenance.nmsIou).toBe(iou);
        const expected = round(await reference.detect(frames[0]));
        // Both sessions: two calls at once go to two different sessions.
        const answers = await Promise.all([pool.detect(frames[0]), pool.detect(frames[0])]);
        for (const a of answers) expect(round(a)).toEqual(expected);
        found.push(expected.length);
      }
      // The change took effect: a looser NMS keeps more overlapping boxes.
      expect(found[1]).toBeGreaterThan(found[0]);
      expect(() => pool.setNmsIou(1.5)).toThrow(RangeError);
      expect(pool.provenance.nmsIou).toBe(0.95);
    } finally {
      await pool.close();
      await reference.close();
    }
  });

  it('answers overlapping calls in call order, more calls than input buffers', async () => {
    const expected = await Promise.all(frames.map((f) => direct.detect(f)));
    const order = [0, 1, 1, 0, 0, 1, 0];
    const answers = await Promise.all(order.map((i) => worker.detect(frames[i])));
    answers.forEach((a, k) => expect(round(a)).toEqual(round(expected[order[k]])));
  });

  it('rejects a malformed frame without losing its buffer', async () => {
    const bad: RawFrame = { data: new Uint8Array(10), width: 416, height: 312, pixelFormat: 'bgr24' };
    await expect(worker.detect(bad)).rejects.toMatchObject({ code: DetectorErrorCode.INVALID_FRAME });
    await expect(worker.detect(bad)).rejects.toMatchObject({ code: DetectorErrorCode.INVALID_FRAME });
    // Both buffers are still there: two good frames at once still work.
    const [a, b] = await Promise.all([worker.detect(frames[0]), worker.detect(frames[1])]);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });
});

describe('WorkerDetector lifecycle', () => {
  it('fails to load with the same typed error as a direct load', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-models-'));
    const err = await WorkerDetector.load(loadManifest('yolox_nano_416'), dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetectorError);
    expect((err as DetectorError).code).toBe(DetectorErrorCode.MODEL_NOT_FOUND);
    expect((err as DetectorError).message).toContain(dir);
  });

  it('finishes what is in flight on close, then refuses new frames', async () => {
    const frame = await readFrameAt(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10);
    const worker = await WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir());
    const inFlight = worker.detect(frame);
    const closing = worker.close();
    expect((await inFlight).length).toBeGreaterThan(0);
    await closing;
    await expect(worker.detect(frame)).rejects.toMatchObject({ code: DetectorErrorCode.DETECTOR_CLOSED });
  });
});

describe('WorkerDetector with several sessions', () => {
  let frames: RawFrame[];
  let expected: Detection[][];

  beforeAll(async () => {
    const videos = resolveVideosDir();
    frames = [
      await readFrameAt(path.join(videos, 'opencv_vtest.avi'), 10),
      await readFrameAt(path.join(videos, 'bgslibrary_video02.avi'), 10),
    ];
    const direct = await loadDetector(loadManifest('yolox_nano_416'), resolveModelsDir());
    expected = [await direct.detect(frames[0]), await direct.detect(frames[1])];
    await direct.close();
  });

  it('spreads overlapping frames over its sessions, each answer the detections of its own frame', async () => {
    const pool = await WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir(), {}, 2);
    try {
      expect(pool.sessionCount).toBe(2);
      expect(pool.warmInferenceMs).toBeGreaterThan(0);
      const order = [0, 1, 1, 0, 0, 1, 0, 1, 1, 0];
      const answers = await Promise.all(order.map((i) => pool.detect(frames[i])));
      answers.forEach((a, k) => expect(round(a)).toEqual(round(expected[order[k]])));
      const shares = pool.answeredBySession;
      expect(shares.reduce((a, b) => a + b, 0)).toBe(order.length);
      // Four buffers for two sessions: both take frames while more are waiting.
      for (const n of shares) expect(n).toBeGreaterThanOrEqual(3);
    } finally {
      await pool.close();
    }
  });

  it('grows and shrinks while frames are in flight, losing none', async () => {
    const pool = await WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir());
    try {
      const before = Array.from({ length: 6 }, (_, k) => pool.detect(frames[k % 2]));
      await pool.resize(3);
      expect(pool.sessionCount).toBe(3);
      const during = Array.from({ length: 9 }, (_, k) => pool.detect(frames[k % 2]));
      const shrinking = pool.resize(1);
      const after = Array.from({ length: 4 }, (_, k) => pool.detect(frames[k % 2]));
      await shrinking;
      expect(pool.sessionCount).toBe(1);
      const all = await Promise.all([...before, ...during, ...after]);
      all.forEach((a, k) => {
        const i = k < 6 ? k % 2 : k < 15 ? (k - 6) % 2 : (k - 15) % 2;
        expect(round(a)).toEqual(round(expected[i]));
      });
      // The one left still works, with its two buffers.
      const [a, b] = await Promise.all([pool.detect(frames[0]), pool.detect(frames[1])]);
      expect(round(a)).toEqual(round(expected[0]));
      expect(round(b)).toEqual(round(expected[1]));
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker that dies; frames asked for meanwhile wait for the replacement', async () => {
    const pool = await WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir());
    const lost: DetectorError[] = [];
    pool.onSessionLost((e) => lost.push(e));
    try {
      expect(round(await pool.detect(frames[0]))).toEqual(round(expected[0]));
      // The thread ends as a crashed one would. Killed idle: terminating a thread inside onnxruntime's run() aborts
      // the whole process (the addon throws in a terminating environment), which is why the pool itself only ever
      // stops a worker once it has answered everything it holds.
      const sessions = (pool as unknown as { sessions: { worker: { terminate(): Promise<number> } }[] }).sessions;
      await sessions[0].worker.terminate();
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ code: DetectorErrorCode.WORKER_FAILED });
      expect(lost[0].message).toMatch(/detector worker exited with code/);
      const later = await Promise.all([pool.detect(frames[1]), pool.detect(frames[0]), pool.detect(frames[1])]);
      expect(later.map(round)).toEqual([round(expected[1]), round(expected[0]), round(expected[1])]);
      expect(pool.restarts).toBe(1);
      expect(pool.sessionCount).toBe(1);
      expect(pool.answeredBySession).toEqual([3]);
    } finally {
      await pool.close();
    }
  });

  it('refuses a session count that is not a positive integer', async () => {
    await expect(WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir(), {}, 0)).rejects.toThrow(
      /sessions must be an integer >= 1, got 0/,
    );
    const pool = await WorkerDetector.load(loadManifest('yolox_nano_416'), resolveModelsDir());
    try {
      await expect(pool.resize(1.5)).rejects.toThrow(/got 1.5/);
      expect(pool.sessionCount).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
