import path from 'node:path';
import { resolveVideosDir } from '../detect/testing/read-frame';
import { type VirtualCamera, startVirtualCamera } from '../../tools/virtual-camera/virtual-camera';
import type { CapturedFrame, CaptureSource } from './capture.types';
import { FrameCapture } from './frame-capture.service';
import { childFfmpegPids, memoryLogger, recordStatuses, waitForStatus } from './testing/capture-test.helpers';

// RTSP end to end: the virtual camera serves a shared clip through Debian's gst-rtsp-server, ffmpeg pulls it.
const CLIP = path.join(resolveVideosDir(), 'bgslibrary_video02.avi');
const USER = 'operator';
const PASS = 'p@ss w0rd!';
const FAST_RETRY = { initialMs: 200, maxMs: 1_000, factor: 2, jitter: 0.3 };

jest.setTimeout(90_000);

/** The camera's stream URL without userinfo, credentials given separately (what the edge config does). */
function rtspSource(streamUrl: string, transport: 'tcp' | 'udp', password = PASS): CaptureSource {
  const url = new URL(streamUrl);
  url.username = '';
  url.password = '';
  return { kind: 'rtsp', url: url.toString(), transport, username: USER, password };
}

function assertPicture(frame: CapturedFrame | null, width: number, height: number): void {
  expect(frame).not.toBeNull();
  const f = frame as CapturedFrame;
  expect([f.width, f.height, f.pixelFormat, f.data.length]).toEqual([width, height, 'bgr24', width * height * 3]);
  let nonZero = 0;
  for (const b of f.data) if (b !== 0) nonZero++;
  expect(nonZero).toBeGreaterThan(f.data.length / 2);
}

describe('FrameCapture over RTSP from the virtual camera', () => {
  let cam: VirtualCamera;
  const open: FrameCapture[] = [];
  const track = (c: FrameCapture): FrameCapture => (open.push(c), c);

  beforeAll(async () => {
    // RTSP Digest required, like a real camera; no WS-Discovery (not needed here, and its port is shared).
    cam = await startVirtualCamera({ clip: CLIP, username: USER, password: PASS, rtspAuth: true, discovery: false });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    expect(childFfmpegPids()).toEqual([]);
  });

  afterAll(async () => {
    await cam?.close();
  });

  it('frames arrive over RTSP/TCP with the camera credentials, which appear in no status and no log line', async () => {
    const { logger, lines } = memoryLogger();
    const capture = track(
      new FrameCapture({
        source: rtspSource(cam.rtspUrl, 'tcp'),
        output: { width: 320, height: 240, fps: 10, fit: 'exact' },
        logger,
        name: 'virtual-cam',
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    const got: CapturedFrame[] = [];
    for await (const f of capture.frames()) {
      got.push(f);
      if (got.length === 10) break;
    }
    for (const f of got) assertPicture(f, 320, 240);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'streaming']);
    expect(statuses[1].reason).toBe('receiving 320x240 frames at 10 fps');
    const everything = [...statuses.map((s) => JSON.stringify(s)), ...lines].join('\n');
    expect(everything).toContain('-rtsp_transport');
    for (const secret of [USER, PASS, encodeURIComponent(PASS), 'w0rd']) expect(everything).not.toContain(secret);
  });

  it('UDP transport works as a per-camera setting (on the sub-stream, the usual detection stream)', async () => {
    const capture = track(
      new FrameCapture({ source: rtspSource(cam.subStreamUrl, 'udp'), output: { width: 416, height: 416, fps: 5 } }),
    );
    capture.start();
    assertPicture(await capture.next(), 416, 312);
  });

  it('a wrong password: failed "authentication failed", retried, the password in no status', async () => {
    const capture = track(
      new FrameCapture({
        source: rtspSource(cam.rtspUrl, 'tcp', 'not-the-password'),
        output: { width: 320, height: 240, fps: 10 },
        backoff: FAST_RETRY,
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'failed' && s.attempt === 2);
    const failed = statuses.filter((s) => s.state === 'failed');
    expect(failed.map((s) => s.cause)).toEqual(['unauthorized', 'unauthorized']);
    expect(failed[0].reason).toMatch(/^authentication failed \(ffmpeg exited with code 1: .*401 Unauthorized/);
    expect(JSON.stringify(statuses)).not.toMatch(/not-the-password|operator/);
  });

  it('a hung camera (server frozen, connection open): stalled by the watchdog, then frames resume', async () => {
    const capture = track(
      new FrameCapture({
        source: rtspSource(cam.rtspUrl, 'tcp'),
        output: { width: 320, height: 240, fps: 10, fit: 'exact' },
        stallTimeoutMs: 2_000,
        firstFrameTimeoutMs: 4_000,
        // Longer than the watchdog, so that it is the watchdog, not ffmpeg's socket timeout, that notices.
        rtspSocketTimeoutMs: 30_000,
        backoff: FAST_RETRY,
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'streaming');
    cam.pauseRtsp();
    let resumed = false;
    try {
      const stalled = await waitForStatus(capture, (s) => s.state === 'stalled');
      expect(stalled).toMatchObject({ cause: 'stalled', attempt: 1 });
      expect(stalled.reason).toMatch(/^no frames for 2(\.\d)? s$/);
      cam.resumeRtsp();
      resumed = true;
    } finally {
      if (!resumed) cam.resumeRtsp();
    }
    const seen = statuses.length;
    await waitForStatus(capture, (s) => s.state === 'streaming' && statuses.indexOf(s) >= seen);
    assertPicture(await capture.next(), 320, 240);
    expect(capture.counters.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('server stopped: leaves streaming and retries with backoff; server back: frames resume at the next retry', async () => {
    const capture = track(
      new FrameCapture({
        source: rtspSource(cam.rtspUrl, 'tcp'),
        output: { width: 320, height: 240, fps: 10, fit: 'exact' },
        stallTimeoutMs: 3_000,
        backoff: FAST_RETRY,
      }),
    );
    const statuses = recordStatuses(capture);
    capture.start();
    await waitForStatus(capture, (s) => s.state === 'streaming');
    assertPicture(await capture.next(), 320, 240);

    await cam.stopRtsp();
    const down = await waitForStatus(capture, (s) => s.state !== 'streaming');
    expect(['stalled', 'failed']).toContain(down.state);
    expect(down.nextRetryMs).not.toBeNull();
    // Retries keep coming while the server is away, each refused, with growing delays.
    await waitForStatus(capture, (s) => s.state === 'connecting' && s.attempt >= 3);
    const refused = statuses.filter((s) => s.state === 'failed' && s.cause === 'connection-refused');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[1].nextRetryMs ?? 0).toBeGreaterThan((refused[0].nextRetryMs ?? 0) * 0.7);
    for (const s of statuses) expect(s.nextRetryMs ?? 0).toBeLessThanOrEqual(FAST_RETRY.maxMs);

    await cam.startRtsp();
    const restartedAt = statuses.length;
    const back = await waitForStatus(capture, (s) => s.state === 'streaming' && statuses.indexOf(s) >= restartedAt);
    // At most the one attempt that was already under way when the server came back can fail.
    const failuresAfterRestart = statuses.slice(restartedAt).filter((s) => s.state === 'failed');
    expect(failuresAfterRestart.length).toBeLessThanOrEqual(1);
    expect(back.attempt).toBe(0);
    assertPicture(await capture.next(), 320, 240);
    expect(capture.counters.reconnects).toBeGreaterThanOrEqual(3);
    expect(childFfmpegPids()).toHaveLength(1);
  });
});
