import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveVideosDir } from '../detect/testing/read-frame';
import { measureCaptureRate } from '../../../scripts/bench/capture.bench';
import { freePort } from '../../../test/support/services';
import type { CapturedFrame } from './capture.types';
import { FrameCapture } from './frame-capture.service';
import { childFfmpegPids, memoryLogger, recordStatuses, sleep, waitForStatus } from './testing/capture-test.helpers';

// Real ffmpeg 5.1 on the shared clips.
const videos = resolveVideosDir();
const HIGHWAY = path.join(videos, 'bgslibrary_video02.avi'); // 30 s, 320x240, 25 fps
const PLAZA = path.join(videos, 'opencv_vtest.avi'); // 79.5 s, 768x576, 10 fps
const FAST_RETRY = { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.3 };

jest.setTimeout(60_000);

function nonZero(frame: CapturedFrame): number {
  let n = 0;
  for (const b of frame.data) if (b !== 0) n++;
  return n;
}

describe('FrameCapture with real ffmpeg (files)', () => {
  const open: FrameCapture[] = [];
  const track = (c: FrameCapture): FrameCapture => (open.push(c), c);
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-capture-'));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    expect(childFfmpegPids()).toEqual([]);
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('decodes a clip at 10 fps and 320x240 into exact-size BGR frames with picture content', async () => {
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: HIGHWAY },
        output: { width: 320, height: 240, fps: 10, fit: 'exact' },
      }),
    );
    const statuses = recordStatuses(capture);
    const first = capture.next();
    capture.start();
    const frames: CapturedFrame[] = [];
    const f0 = await first;
    if (f0 !== null) frames.push(f0);
    for await (const f of capture.frames()) frames.push(f);

    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'streaming', 'failed']);
    expect(statuses[2].cause).toBe('end-of-input');
    // 30 s at 10 fps.
    const { framesDecoded, framesDelivered, framesDropped } = capture.counters;
    expect(framesDecoded).toBeGreaterThanOrEqual(299);
    expect(framesDecoded).toBeLessThanOrEqual(301);
    expect(framesDelivered + framesDropped).toBe(framesDecoded);
    expect(frames.length).toBe(framesDelivered);
    for (const f of frames) {
      expect(f.data.length).toBe(320 * 240 * 3);
      expect([f.width, f.height, f.pixelFormat]).toEqual([320, 240, 'bgr24']);
      expect(nonZero(f)).toBeGreaterThan(f.data.length / 2);
      expect(f.ptsMs).toBeCloseTo((f.seq - 1) * 100, 6);
    }
    const seqs = frames.map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The first frame is the clip's first picture, byte for byte (a plain ffmpeg decode at the clip's own size).
    const reference = execFileSync(
      'ffmpeg',
      ['-v', 'error', '-i', HIGHWAY, '-frames:v', '1', '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'],
      { maxBuffer: 1 << 24 },
    );
    expect(frames[0].seq).toBe(1);
    expect(Buffer.compare(frames[0].data, reference)).toBe(0);
  });

  it('keeps the aspect ratio when asked: 768x576 into a 416x416 box gives 416x312', async () => {
    const capture = track(
      new FrameCapture({ source: { kind: 'file', path: PLAZA }, output: { width: 416, height: 416, fps: 5 } }),
    );
    capture.start();
    const frame = await capture.next();
    expect(frame).not.toBeNull();
    expect([frame?.width, frame?.height, frame?.data.length]).toEqual([416, 312, 416 * 312 * 3]);
    expect(capture.frameSize).toEqual({ width: 416, height: 312 });
    expect(capture.status).toMatchObject({ state: 'streaming', frameSize: { width: 416, height: 312 } });
  });

  it("an unpaced file is read at the consumer's pace: ffmpeg waits instead of decoding frames to drop", async () => {
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: HIGHWAY },
        output: { width: 160, height: 120, fps: 10, fit: 'exact' },
      }),
    );
    capture.start();
    const seqs: number[] = [];
    for await (const f of capture.frames()) {
      seqs.push(f.seq);
      if (seqs.length === 15) break;
      await sleep(100);
    }
    // 1.5 s of a slow consumer: unheld, ffmpeg would have decoded the whole 30 s clip (300 frames) by now.
    const { framesDecoded, framesDropped } = capture.counters;
    expect(framesDecoded).toBeLessThanOrEqual(seqs[14] + 3);
    expect(seqs[14] - seqs[0]).toBeLessThanOrEqual(14 + 3);
    expect(framesDropped).toBeLessThanOrEqual(3);
  });

  it('a consumer slower than a real-time camera skips frames but keeps receiving recent ones', async () => {
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: HIGHWAY, realtime: true, loop: true },
        output: { width: 160, height: 120, fit: 'exact' },
      }),
    );
    capture.start();
    const seqs: number[] = [];
    for await (const f of capture.frames()) {
      seqs.push(f.seq);
      if (seqs.length === 4) break;
      await sleep(300); // ~7 frames of a 25 fps camera arrive meanwhile
    }
    const { framesDropped, framesDecoded } = capture.counters;
    expect(framesDropped).toBeGreaterThan(0);
    expect(seqs[3] - seqs[0]).toBeGreaterThan(3);
    expect(framesDecoded).toBeGreaterThanOrEqual(seqs[3]);
  });

  it('a missing file: failed "file not found", retried with growing delays, no crash', async () => {
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: path.join(tmp, 'nope.avi') },
        output: { width: 64, height: 48, fit: 'exact' },
        backoff: FAST_RETRY,
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'failed' && s.attempt === 3);
    const failed = statuses.filter((s) => s.state === 'failed');
    expect(failed.map((s) => s.cause)).toEqual(['not-found', 'not-found', 'not-found']);
    expect(failed[0].reason).toContain('file not found (ffmpeg exited with code 1:');
    expect(failed[0].reason).toContain('No such file or directory');
    expect(failed.map((s) => s.attempt)).toEqual([1, 2, 3]);
    const delays = failed.map((s) => s.nextRetryMs ?? -1);
    delays.forEach((d, i) => {
      const base = Math.min(FAST_RETRY.maxMs, FAST_RETRY.initialMs * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.7));
      expect(d).toBeLessThanOrEqual(base);
    });
    expect(statuses.filter((s) => s.state === 'connecting').length).toBeGreaterThanOrEqual(3);
    expect(capture.counters.reconnects).toBeGreaterThanOrEqual(2);
  });

  it('a file that is not a video: failed "input is not a readable video"', async () => {
    const junk = path.join(tmp, 'junk.avi');
    writeFileSync(junk, 'this is not a video\n'.repeat(100));
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: junk },
        output: { width: 64, height: 48 },
        backoff: FAST_RETRY,
      }),
    );
    capture.start();
    const failed = await waitForStatus(capture, (s) => s.state === 'failed');
    expect(failed.cause).toBe('bad-input');
    expect(failed.reason).toContain('Invalid data found when processing input');
  });

  it('an unreachable RTSP camera: connection refused, retries, credentials in no status and no log line', async () => {
    const port = await freePort();
    const { logger, lines } = memoryLogger();
    const capture = track(
      new FrameCapture({
        source: {
          kind: 'rtsp',
          url: `rtsp://carol:T0p%2Fsecret@127.0.0.1:${port}/cam`,
          username: 'bob',
          password: 'p@ss w0rd!',
        },
        output: { width: 320, height: 240, fps: 10 },
        backoff: FAST_RETRY,
        logger,
        name: 'cam-unreachable',
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'failed' && s.attempt === 3);
    const failed = statuses.filter((s) => s.state === 'failed');
    expect(failed.map((s) => s.cause)).toEqual(['connection-refused', 'connection-refused', 'connection-refused']);
    expect(failed[0].reason).toBe(
      `connection refused (ffmpeg exited with code 1: rtsp://***@127.0.0.1:${port}/cam: Connection refused)`,
    );
    // ffmpeg really echoed the URL (so redaction was needed), and the logs carry the stderr lines at debug level.
    expect(lines.some((l) => l.includes(`rtsp://***@127.0.0.1:${port}/cam: Connection refused`))).toBe(true);
    const everything = [...statuses.map((s) => JSON.stringify(s)), ...lines].join('\n');
    for (const secret of ['bob', 'carol', 'p@ss', 'p%40ss', 'w0rd', 'T0p', 'secret']) {
      expect(everything).not.toContain(secret);
    }
  });

  it('watchdog on a real process: a frozen ffmpeg is reported stalled, killed and replaced, and frames resume', async () => {
    const capture = track(
      new FrameCapture({
        source: { kind: 'file', path: HIGHWAY, realtime: true, loop: true },
        output: { width: 160, height: 120, fps: 10, fit: 'exact' },
        stallTimeoutMs: 1_500,
        backoff: FAST_RETRY,
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'streaming');
    const [frozen] = childFfmpegPids();
    process.kill(frozen, 'SIGSTOP'); // alive, holding its pipes, sending nothing: what a hung camera stream looks like
    const stalled = await waitForStatus(capture, (s) => s.state === 'stalled');
    expect(stalled).toMatchObject({ cause: 'stalled', attempt: 1 });
    expect(stalled.reason).toMatch(/^no frames for 1\.\d s$/);
    expect(stalled.nextRetryMs).toBeLessThanOrEqual(FAST_RETRY.initialMs);
    await waitForStatus(capture, (s) => s.state === 'streaming' && s.at > stalled.at);
    const seqBefore = capture.counters.framesDecoded;
    const next = await capture.next();
    expect(next?.seq).toBeGreaterThanOrEqual(seqBefore);
    expect(childFfmpegPids()).not.toContain(frozen);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'streaming', 'stalled', 'connecting', 'streaming']);
    expect(capture.counters.reconnects).toBe(1);
  });

  it('close() straight after start() leaves no ffmpeg behind, even before the process is up', async () => {
    for (let i = 0; i < 5; i++) {
      const capture = new FrameCapture({
        source: { kind: 'file', path: HIGHWAY, realtime: true },
        output: { width: 64, height: 48 },
      });
      const statuses = recordStatuses(capture);
      capture.start();
      await capture.close();
      expect(statuses.map((s) => s.state)).toEqual(['connecting']);
      await expect(capture.next()).resolves.toBeNull();
    }
    await sleep(200); // a process started after the kill request would show up by now
  });

  it('measureCaptureRate: decodes a clip through the capture path and reports frames/s', async () => {
    const rate = await measureCaptureRate({
      clip: HIGHWAY,
      width: 320,
      height: 240,
      fps: 10,
      fit: 'exact',
      maxFrames: 50,
    });
    expect(rate.frames).toBeGreaterThanOrEqual(50);
    expect(rate.framesPerSecond).toBeGreaterThan(0);
    expect(rate.framesPerSecond).toBeCloseTo(rate.frames / rate.seconds, 6);
    expect([rate.width, rate.height]).toEqual([320, 240]);
    await expect(measureCaptureRate({ clip: path.join(tmp, 'nope.avi'), width: 64, height: 48 })).rejects.toThrow(
      'file not found',
    );
  });
});
