import type { CaptureLogger, CaptureStatus } from './capture.types';
import type { DecoderEvents, DecoderHandle, DecoderSpec, SpawnDecoder } from './decoder-process.types';
import { FrameCapture, type FrameCaptureOptions } from './frame-capture.service';

/** Scripted stand-in for an ffmpeg process: the test decides what it prints, outputs and when it exits. */
class FakeDecoder implements DecoderHandle {
  kills = 0;
  exited = false;
  resumes = 0;
  /** What the last onData answered: false = the capture holds the decoder. */
  lastAccepted: boolean | void = undefined;

  constructor(
    readonly spec: DecoderSpec,
    private readonly events: DecoderEvents,
  ) {}

  data(bytes: Buffer): void {
    this.lastAccepted = this.events.onData(bytes);
  }

  resume(): void {
    this.resumes++;
  }

  frames(count: number, frameBytes: number, fill = 7): void {
    this.data(Buffer.alloc(count * frameBytes, fill));
  }

  stderr(...lines: string[]): void {
    for (const line of lines) this.events.onStderrLine(line);
  }

  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.events.onExit({ code, signal });
  }

  kill(): void {
    this.kills++;
    // Like a real process: the exit is reported a little later, not inside kill().
    queueMicrotask(() => this.exit(null, 'SIGKILL'));
  }
}

const W = 4;
const H = 2;
const FRAME = W * H * 3;
const USER = 'bob';
const PASS = 's3cr@t';

function harness(overrides: Partial<FrameCaptureOptions> = {}) {
  const decoders: FakeDecoder[] = [];
  const spawn: SpawnDecoder = (spec, events) => {
    const d = new FakeDecoder(spec, events);
    decoders.push(d);
    return d;
  };
  const statuses: CaptureStatus[] = [];
  const logs: string[] = [];
  const logger: CaptureLogger = {
    debug: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`),
    info: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`),
    warn: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`),
  };
  const capture = new FrameCapture(
    {
      source: { kind: 'rtsp', url: 'rtsp://10.0.0.5:554/sub', username: USER, password: PASS },
      output: { width: W, height: H, fps: 10, fit: 'exact' },
      stallTimeoutMs: 5_000,
      firstFrameTimeoutMs: 8_000,
      healthyAfterMs: 30_000,
      logger,
      name: 'cam-1',
      ...overrides,
    },
    { spawnDecoder: spawn, random: () => 0 },
  );
  capture.onStatus((s) => statuses.push(s));
  const last = () => decoders[decoders.length - 1];
  const states = () => statuses.map((s) => s.state);
  return { capture, decoders, statuses, logs, last, states };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('FrameCapture', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] }));
  afterEach(() => jest.useRealTimers());

  it('goes connecting -> streaming on the first frame, with size and attempt 0', async () => {
    const h = harness();
    h.capture.start();
    expect(h.states()).toEqual(['connecting']);
    expect(h.statuses[0].reason).toBe('connecting to rtsp://10.0.0.5:554/sub (tcp)');
    h.last().frames(1, FRAME);
    expect(h.states()).toEqual(['connecting', 'streaming']);
    expect(h.statuses[1]).toMatchObject({ attempt: 0, nextRetryMs: null, frameSize: { width: W, height: H } });
    await h.capture.close();
  });

  it('delivers the newest frame with seq and media time, and counts the frames it had to drop', async () => {
    const h = harness();
    h.capture.start();
    h.last().frames(3, FRAME);
    const frame = await h.capture.next();
    expect(frame).toMatchObject({ seq: 3, ptsMs: 200, width: W, height: H, pixelFormat: 'bgr24' });
    expect(frame?.data.length).toBe(FRAME);
    expect(h.capture.counters).toMatchObject({ framesDecoded: 3, framesDelivered: 1, framesDropped: 2 });
    await h.capture.close();
  });

  it('watchdog: a live decoder that goes silent is reported stalled, killed, and restarted after the backoff', async () => {
    const h = harness();
    h.capture.start();
    h.last().frames(1, FRAME);
    jest.advanceTimersByTime(4_999);
    expect(h.states()).toEqual(['connecting', 'streaming']);
    jest.advanceTimersByTime(1);
    expect(h.statuses[2]).toMatchObject({
      state: 'stalled',
      cause: 'stalled',
      reason: 'no frames for 5 s',
      attempt: 1,
      nextRetryMs: 1_000,
    });
    expect(h.decoders[0].kills).toBe(1);
    await flush();
    jest.advanceTimersByTime(999);
    expect(h.decoders).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(h.decoders).toHaveLength(2);
    expect(h.statuses[3]).toMatchObject({ state: 'connecting', attempt: 1 });
    expect(h.statuses[3].reason).toBe('reconnecting to rtsp://10.0.0.5:554/sub (tcp) (attempt 1)');
    h.last().frames(1, FRAME);
    expect(h.statuses[4]).toMatchObject({ state: 'streaming', attempt: 0 });
    expect(h.capture.counters.reconnects).toBe(1);
    await h.capture.close();
  });

  it('watchdog: no first frame within the connect budget is a stall too, with its own reason', async () => {
    const h = harness();
    h.capture.start();
    jest.advanceTimersByTime(8_000);
    expect(h.statuses[1]).toMatchObject({
      state: 'stalled',
      cause: 'timeout',
      reason: 'no frames within 8 s of connecting',
    });
    expect(h.decoders[0].kills).toBe(1);
    await h.capture.close();
  });

  it('frames keep the watchdog quiet', async () => {
    const h = harness();
    h.capture.start();
    for (let i = 0; i < 100; i++) {
      h.last().frames(1, FRAME);
      jest.advanceTimersByTime(1_000);
    }
    expect(h.states()).toEqual(['connecting', 'streaming']);
    await h.capture.close();
  });

  it('ffmpeg errors: reports a redacted reason and retries with exponential backoff', async () => {
    const h = harness();
    h.capture.start();
    const delays: Array<number | null> = [];
    for (let i = 0; i < 5; i++) {
      h.last().stderr(
        '[tcp @ 0x55e552481880] Connection to tcp://10.0.0.5:554?timeout=10000000 failed: Connection refused',
        `rtsp://${USER}:s3cr%40t@10.0.0.5:554/sub: Connection refused`,
      );
      h.last().exit(1);
      const failed = h.statuses[h.statuses.length - 1];
      expect(failed).toMatchObject({ state: 'failed', cause: 'connection-refused', attempt: i + 1 });
      delays.push(failed.nextRetryMs);
      const before = h.decoders.length;
      jest.advanceTimersByTime((failed.nextRetryMs ?? 0) - 1);
      expect(h.decoders).toHaveLength(before);
      jest.advanceTimersByTime(1);
      expect(h.decoders).toHaveLength(before + 1);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(h.statuses[1].reason).toBe(
      'connection refused (ffmpeg exited with code 1: rtsp://***@10.0.0.5:554/sub: Connection refused)',
    );
    const everything = [...h.statuses.map((s) => JSON.stringify(s)), ...h.logs].join('\n');
    expect(everything).toContain('Connection refused');
    expect(everything).not.toMatch(/bob|s3cr/);
    // The decoder itself must get the credentials, or the camera would refuse it.
    expect(h.decoders[0].spec.input).toBe(`rtsp://${USER}:s3cr%40t@10.0.0.5:554/sub`);
    await h.capture.close();
  });

  it('resets the backoff after a healthy period of streaming, not after a short one', async () => {
    const h = harness();
    h.capture.start();
    const failNow = () => {
      h.last().exit(1);
      const s = h.statuses[h.statuses.length - 1];
      jest.advanceTimersByTime(s.nextRetryMs ?? 0);
      return s;
    };
    expect(failNow().attempt).toBe(1);
    expect(failNow().attempt).toBe(2);
    // Streams briefly, then fails: still the same outage.
    h.last().frames(1, FRAME);
    jest.advanceTimersByTime(2_000);
    expect(failNow()).toMatchObject({ attempt: 3, nextRetryMs: 4_000 });
    // Streams for longer than healthyAfterMs: a new outage starts from the first step.
    for (let t = 0; t < 31; t++) {
      h.last().frames(1, FRAME);
      jest.advanceTimersByTime(1_000);
    }
    expect(failNow()).toMatchObject({ attempt: 1, nextRetryMs: 1_000 });
    await h.capture.close();
  });

  it('a clean exit of a live stream is a failure to retry, not an end', async () => {
    const h = harness();
    h.capture.start();
    h.last().frames(1, FRAME);
    h.last().exit(0);
    expect(h.statuses[2]).toMatchObject({ state: 'failed', cause: 'stream-ended', nextRetryMs: 1_000 });
    jest.advanceTimersByTime(1_000);
    expect(h.decoders).toHaveLength(2);
    await h.capture.close();
  });

  it('a finite file ends: the last frame is still delivered, then frames() finishes, nothing is retried', async () => {
    const h = harness({ source: { kind: 'file', path: '/clips/a.avi' } });
    h.capture.start();
    h.last().frames(2, FRAME, 1);
    h.last().frames(1, FRAME, 9);
    h.last().exit(0);
    expect(h.statuses[h.statuses.length - 1]).toMatchObject({
      state: 'failed',
      cause: 'end-of-input',
      nextRetryMs: null,
    });
    const got: number[] = [];
    for await (const f of h.capture.frames()) got.push(f.data[0]);
    expect(got).toEqual([9]);
    jest.advanceTimersByTime(120_000);
    expect(h.decoders).toHaveLength(1);
    await h.capture.close();
  });

  it('keep-aspect: holds early stdout until ffmpeg reports the output size, then splits with it', async () => {
    const h = harness({ output: { width: 8, height: 8, fps: 5 } });
    h.capture.start();
    const frameBytes = 8 * 6 * 3;
    h.last().data(Buffer.alloc(frameBytes + 10, 3));
    expect(h.capture.counters.framesDecoded).toBe(0);
    h.last().stderr(
      '  Stream #0:0: Video: h264, yuv420p, 1280x960, 25 fps',
      "Output #0, rawvideo, to 'pipe:1':",
      '  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, progressive), 8x6, q=2-31, 5 fps, 5 tbn',
    );
    expect(h.capture.counters.framesDecoded).toBe(1);
    h.last().data(Buffer.alloc(frameBytes - 10, 3));
    expect(h.capture.counters.framesDecoded).toBe(2);
    expect(h.capture.frameSize).toEqual({ width: 8, height: 6 });
    const frame = await h.capture.next();
    expect(frame).toMatchObject({ width: 8, height: 6, seq: 2, ptsMs: 200 });
    await h.capture.close();
  });

  it('exact mode refuses an ffmpeg output size other than the configured one instead of cutting garbage frames', async () => {
    const h = harness();
    h.capture.start();
    h.last().stderr(
      "Output #0, rawvideo, to 'pipe:1':",
      '  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24, 6x2, q=2-31, 10 fps, 10 tbn',
    );
    expect(h.statuses[1]).toMatchObject({
      state: 'failed',
      cause: 'ffmpeg-error',
      reason: 'ffmpeg outputs 6x2, expected 4x2',
      nextRetryMs: 1_000,
    });
    expect(h.decoders[0].kills).toBe(1);
    h.last().frames(2, FRAME);
    expect(h.capture.counters.framesDecoded).toBe(0);
    await h.capture.close();
  });

  it('close() during a backoff wait cancels the retry and ends frames()', async () => {
    const h = harness();
    h.capture.start();
    const consumer = (async () => {
      let n = 0;
      for await (const _f of h.capture.frames()) n++;
      return n;
    })();
    h.last().exit(1);
    await h.capture.close();
    jest.advanceTimersByTime(120_000);
    expect(h.decoders).toHaveLength(1);
    await expect(consumer).resolves.toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('close() kills a running decoder and resolves once it has exited', async () => {
    const h = harness();
    h.capture.start();
    h.last().frames(1, FRAME);
    const statusesBefore = h.statuses.length;
    await h.capture.close();
    expect(h.decoders[0].kills).toBe(1);
    expect(h.decoders[0].exited).toBe(true);
    expect(h.statuses).toHaveLength(statusesBefore);
    await expect(h.capture.next()).resolves.toBeNull();
    expect(() => h.capture.start()).toThrow('already started');
  });

  it('a decoder that cannot be spawned is a failure with retries, not a crash', async () => {
    let calls = 0;
    const statuses: CaptureStatus[] = [];
    const capture = new FrameCapture(
      { source: { kind: 'file', path: '/x.avi' }, output: { width: W, height: H, fit: 'exact' } },
      {
        spawnDecoder: () => {
          calls++;
          throw new Error('spawn ffmpeg ENOENT');
        },
        random: () => 0,
      },
    );
    capture.onStatus((s) => statuses.push(s));
    capture.start();
    await flush();
    expect(statuses[1]).toMatchObject({
      state: 'failed',
      cause: 'spawn-failed',
      reason: 'ffmpeg could not be started: spawn ffmpeg ENOENT',
      nextRetryMs: 1_000,
    });
    jest.advanceTimersByTime(1_000);
    await flush();
    expect(calls).toBe(2);
    await capture.close();
  });

  it('a throwing status listener does not break the capture', async () => {
    const h = harness();
    h.capture.onStatus(() => {
      throw new Error('listener bug');
    });
    h.capture.start();
    h.last().frames(1, FRAME);
    expect(h.states()).toEqual(['connecting', 'streaming']);
    expect(h.logs.some((l) => l.includes('listener threw'))).toBe(true);
    await h.capture.close();
  });

  it('rejects invalid settings at construction', () => {
    expect(
      () =>
        new FrameCapture({
          source: { kind: 'file', path: '/x' },
          output: { width: 4, height: 4 },
          backoff: { maxMs: 1 },
        }),
    ).toThrow('invalid backoff');
  });
});

describe('FrameCapture: consumer-paced file', () => {
  it('holds an unpaced file decoder while a frame waits and lets it go when the frame is taken', async () => {
    const { capture, last } = harness({ source: { kind: 'file', path: '/clips/a.avi' } });
    capture.start();
    last().frames(1, FRAME);
    expect(last().lastAccepted).toBe(false);
    expect(last().resumes).toBe(0);
    const frame = await capture.next();
    expect(frame?.seq).toBe(1);
    expect(last().resumes).toBe(1);
    // Taken at once by a waiting consumer: nothing waits, nothing held.
    const waiting = capture.next();
    last().frames(1, FRAME, 9);
    expect(last().lastAccepted).toBe(true);
    expect((await waiting)?.data[0]).toBe(9);
    expect(capture.counters.framesDropped).toBe(0);
    await capture.close();
  });

  it('does not count the time it holds the decoder as a stall', async () => {
    jest.useFakeTimers();
    try {
      const { capture, last, states } = harness({ source: { kind: 'file', path: '/clips/a.avi' } });
      capture.start();
      last().frames(1, FRAME);
      jest.advanceTimersByTime(60_000);
      expect(states()).not.toContain('stalled');
      expect(last().kills).toBe(0);
      await capture.next();
      jest.advanceTimersByTime(5_001);
      expect(states()).toContain('stalled');
      await capture.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('never holds a live camera or a real-time file: newest frame wins there', () => {
    for (const source of [
      { kind: 'rtsp' as const, url: 'rtsp://10.0.0.5:554/sub' },
      { kind: 'file' as const, path: '/clips/a.avi', realtime: true },
    ]) {
      const { capture, last } = harness({ source });
      capture.start();
      last().frames(3, FRAME);
      expect(last().lastAccepted).toBe(true);
      expect(capture.counters.framesDropped).toBe(2);
      void capture.close();
    }
  });
});
