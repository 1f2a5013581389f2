import { redactSecrets } from '@vigil/common';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, validateBackoff } from '../common/backoff';
import type {
  CaptureCause,
  CaptureCounters,
  CaptureLogger,
  CaptureOutput,
  CaptureSource,
  CaptureState,
  CaptureStatus,
  CapturedFrame,
} from './capture.types';
import type { DecoderExit, DecoderHandle, DecoderSpec, SpawnDecoder } from './decoder-process.types';
import { buildDecoderSpec, describeSource, sourceSecrets } from './ffmpeg-args';
import { spawnFfmpegDecoder } from './ffmpeg-process';
import { OutputSizeParser, describeExit } from './ffmpeg-stderr.parser';
import { LatestMailbox } from './frame-mailbox';
import { FrameSplitter } from './frame-splitter';
import { StallWatchdog } from './stall-watchdog';

export interface FrameCaptureOptions {
  source: CaptureSource;
  output: CaptureOutput;
  /** Silence while streaming that counts as a stall (default 10 s). */
  stallTimeoutMs?: number;
  /** Time allowed from a (re)start to the first frame: RTSP setup plus the wait for a keyframe (default 20 s). */
  firstFrameTimeoutMs?: number;
  /** Streaming this long before a failure starts the backoff again from its first step (default 30 s). */
  healthyAfterMs?: number;
  /** Retry delays; default 1 s doubling up to 60 s, 30 % jitter. */
  backoff?: Partial<BackoffOptions>;
  /** ffmpeg's own RTSP socket timeout (default 10 s). */
  rtspSocketTimeoutMs?: number;
  logger?: CaptureLogger;
  /** Log context, e.g. the camera id. */
  name?: string;
}

export interface FrameCaptureDeps {
  spawnDecoder?: SpawnDecoder;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

export type StatusListener = (status: CaptureStatus) => void;

interface Run {
  handle: DecoderHandle | null;
  splitter: FrameSplitter | null;
  sizeParser: OutputSizeParser;
  /** Stdout that arrived before the keep-aspect frame size was known (stderr and stdout are separate pipes). */
  pending: Buffer[];
  pendingBytes: number;
  frames: number;
  streamingSince: number | null;
  stderrTail: string[];
  /** Set when we kill the decoder on purpose: the status is already out and the retry delay chosen. */
  abortedWithDelay: number | null;
  exited: boolean;
  /** A consumer-paced source's output is held until the waiting frame is taken. */
  held: boolean;
  whenExited: Promise<void>;
  markExited: () => void;
}

const STDERR_TAIL_LINES = 30;
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

const noopLogger: CaptureLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * Supervises one camera's decoder: runs ffmpeg, cuts its output into frames, keeps only the newest frame for the
 * consumer, restarts on exit or stall with exponential backoff, and reports typed status changes. Nothing it logs or
 * reports contains the camera's credentials.
 *
 * Usage: `capture.onStatus(fn); capture.start(); for await (const f of capture.frames()) ...; await capture.close()`.
 */
export class FrameCapture {
  private readonly spec: DecoderSpec;
  private readonly secrets: string[];
  private readonly backoff: BackoffOptions;
  private readonly stallTimeoutMs: number;
  private readonly firstFrameTimeoutMs: number;
  private readonly healthyAfterMs: number;
  private readonly logger: CaptureLogger;
  private readonly spawnDecoder: SpawnDecoder;
  private readonly random: () => number;
  private readonly mailbox = new LatestMailbox<CapturedFrame>();
  private readonly watchdog = new StallWatchdog((silentMs) => this.onSilence(silentMs));
  private readonly listeners = new Set<StatusListener>();
  private readonly fit: 'keep-aspect' | 'exact';
  /**
   * A file read as fast as it decodes (not `realtime`) has no camera clock to keep up with: it is read at the
   * consumer's pace (ffmpeg held while a frame waits) instead of decoding frames only for newest-wins to drop them.
   */
  private readonly consumerPaced: boolean;

  private run: Run | null = null;
  private started = false;
  private closing = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;
  private framesDecoded = 0;
  private reconnects = 0;
  private lastFrameAt: number | null = null;
  private size: { width: number; height: number } | null = null;
  private outputFps: number | null;
  private current: CaptureStatus | null = null;

  constructor(
    private readonly options: FrameCaptureOptions,
    deps: FrameCaptureDeps = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    validateBackoff(this.backoff);
    this.spec = buildDecoderSpec(options.source, options.output, {
      rtspSocketTimeoutMs: options.rtspSocketTimeoutMs ?? 10_000,
    });
    this.secrets = sourceSecrets(options.source);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? 20_000;
    this.healthyAfterMs = options.healthyAfterMs ?? 30_000;
    this.logger = options.logger ?? noopLogger;
    this.spawnDecoder = deps.spawnDecoder ?? spawnFfmpegDecoder;
    this.random = deps.random ?? Math.random;
    this.fit = options.output.fit ?? 'keep-aspect';
    this.consumerPaced = options.source.kind === 'file' && !options.source.realtime;
    this.outputFps = options.output.fps ?? null;
    if (this.fit === 'exact') this.size = { width: options.output.width, height: options.output.height };
  }

  /** Latest status, null before start(). */
  get status(): CaptureStatus | null {
    return this.current;
  }

  get counters(): CaptureCounters {
    return {
      framesDecoded: this.framesDecoded,
      framesDelivered: this.mailbox.delivered,
      framesDropped: this.mailbox.dropped,
      reconnects: this.reconnects,
      lastFrameAt: this.lastFrameAt,
    };
  }

  /** Delivered frame size, null until known (keep-aspect learns it from ffmpeg at the first run). */
  get frameSize(): { width: number; height: number } | null {
    return this.size;
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.started) throw new Error('capture already started');
    if (this.closing) throw new Error('capture is closed');
    this.started = true;
    this.launch();
  }

  /** The newest frame not yet taken; waits for one; null once the capture is closed or a finite file has ended. */
  async next(): Promise<CapturedFrame | null> {
    const frame = await this.mailbox.take();
    this.release();
    return frame;
  }

  /** Frames as they come; a slow loop body gets the newest frame and skips (and counts) those it had no time for. */
  async *frames(): AsyncGenerator<CapturedFrame, void, undefined> {
    for (;;) {
      const frame = await this.next();
      if (frame === null) return;
      yield frame;
    }
  }

  /** Stops retrying, kills the decoder and waits until it has exited. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.watchdog.disarm();
    this.mailbox.close();
    const run = this.run;
    if (run !== null && !run.exited) {
      run.handle?.kill();
      await run.whenExited;
    }
  }

  private launch(): void {
    let markExited!: () => void;
    const whenExited = new Promise<void>((resolve) => (markExited = resolve));
    const run: Run = {
      handle: null,
      splitter: null,
      sizeParser: new OutputSizeParser(),
      pending: [],
      pendingBytes: 0,
      frames: 0,
      streamingSince: null,
      stderrTail: [],
      abortedWithDelay: null,
      exited: false,
      whenExited,
      markExited,
      held: false,
    };
    this.run = run;
    if (this.fit === 'exact')
      run.splitter = this.makeSplitter(run, this.options.output.width, this.options.output.height);

    const target = describeSource(this.options.source);
    this.emit(
      'connecting',
      'starting',
      this.attempt === 0 ? `connecting to ${target}` : `reconnecting to ${target} (attempt ${this.attempt})`,
      null,
    );
    this.log(
      'debug',
      { args: [...this.spec.inputOptions, '-i', this.spec.input, ...this.spec.outputOptions] },
      'ffmpeg',
    );
    this.watchdog.arm(this.firstFrameTimeoutMs);
    try {
      run.handle = this.spawnDecoder(this.spec, {
        onData: (chunk) => this.onData(run, chunk),

        onStderrLine: (line) => this.onStderrLine(run, line),
        onExit: (exit) => this.onExit(run, exit),
      });
    } catch (err) {
      const spawnError = err instanceof Error ? err.message : String(err);
      queueMicrotask(() => this.onExit(run, { code: null, signal: null, spawnError }));
    }
  }

  private makeSplitter(run: Run, width: number, height: number): FrameSplitter {
    return new FrameSplitter(width * height * 3, (data) => this.onFrame(run, data, width, height));
  }

  /** False holds the decoder: a consumer-paced source has a frame waiting. */
  private onData(run: Run, chunk: Buffer): boolean {
    if (run !== this.run || run.abortedWithDelay !== null || this.closing) return true;
    if (run.splitter !== null) {
      run.splitter.push(chunk);
      if (this.consumerPaced && this.mailbox.hasItem) {
        run.held = true;
        // Silence while we hold the decoder is ours, not the source's.
        this.watchdog.disarm();
        return false;
      }
      return true;
    }
    run.pending.push(chunk);
    run.pendingBytes += chunk.length;
    if (run.pendingBytes > MAX_PENDING_BYTES) {
      this.abort(run, 'failed', 'ffmpeg-error', 'ffmpeg did not report the output frame size');
    }
    return true;
  }

  /** A frame was taken: a held consumer-paced decoder may go on. */
  private release(): void {
    const run = this.run;
    if (run === null || !run.held) return;
    run.held = false;
    if (!run.exited && run.abortedWithDelay === null && !this.closing) this.watchdog.arm(this.stallTimeoutMs);
    run.handle?.resume();
  }

  private onStderrLine(run: Run, line: string): void {
    if (line.trim() === '') return;
    const clean = redactSecrets(line, this.secrets);
    run.stderrTail.push(clean);
    if (run.stderrTail.length > STDERR_TAIL_LINES) run.stderrTail.shift();
    this.log('debug', { line: clean }, 'ffmpeg stderr');
    const out = run.sizeParser.feed(line);
    if (out === null) return;
    if (this.outputFps === null && out.fps !== null) this.outputFps = out.fps;
    if (this.fit === 'exact') {
      // Frames are cut at the configured size; a mismatch would yield garbage frames, so refuse it loudly.
      const { width, height } = this.options.output;
      if (out.width !== width || out.height !== height) {
        this.abort(
          run,
          'failed',
          'ffmpeg-error',
          `ffmpeg outputs ${out.width}x${out.height}, expected ${width}x${height}`,
        );
      }
      return;
    }
    if (run.splitter !== null) return;
    this.size = { width: out.width, height: out.height };
    run.splitter = this.makeSplitter(run, out.width, out.height);
    const pending = run.pending;
    run.pending = [];
    run.pendingBytes = 0;
    for (const chunk of pending) run.splitter.push(chunk);
  }

  private onFrame(run: Run, data: Buffer, width: number, height: number): void {
    if (run !== this.run || run.abortedWithDelay !== null || this.closing) return;
    const now = Date.now();
    const index = run.frames++;
    this.framesDecoded++;
    this.lastFrameAt = now;
    this.watchdog.feed();
    if (run.streamingSince === null) {
      run.streamingSince = now;
      this.watchdog.arm(this.stallTimeoutMs);
      const rate = this.outputFps !== null ? ` at ${this.outputFps} fps` : '';
      this.emit('streaming', 'streaming', `receiving ${width}x${height} frames${rate}`, null, 0);
    }
    const ptsMs = this.outputFps !== null ? (index * 1000) / this.outputFps : now - run.streamingSince;
    this.mailbox.put({ data, width, height, pixelFormat: 'bgr24', seq: ++this.seq, ptsMs, capturedAt: now });
  }

  private onSilence(silentMs: number): void {
    const run = this.run;
    if (run === null || run.exited || run.abortedWithDelay !== null || this.closing) return;
    if (run.streamingSince !== null) {
      this.abort(run, 'stalled', 'stalled', `no frames for ${seconds(silentMs)}`);
    } else {
      this.abort(run, 'stalled', 'timeout', `no frames within ${seconds(silentMs)} of connecting`);
    }
  }

  /** Gives up on a live decoder: reports, picks the retry delay, kills; onExit starts the delay. */
  private abort(run: Run, state: CaptureState, cause: CaptureCause, reason: string): void {
    const delay = this.nextDelay(run);
    run.abortedWithDelay = delay;
    this.watchdog.disarm();
    this.emit(state, cause, reason, delay);
    run.handle?.kill();
  }

  private onExit(run: Run, exit: DecoderExit): void {
    if (run.exited) return;
    run.exited = true;
    run.markExited();
    if (run !== this.run || this.closing) return;
    this.watchdog.disarm();
    if (run.abortedWithDelay !== null) {
      this.scheduleRetry(run.abortedWithDelay);
      return;
    }
    const src = this.options.source;
    if (src.kind === 'file' && !src.loop && exit.code === 0) {
      this.mailbox.end();
      this.emit('failed', 'end-of-input', `end of input file after ${run.frames} frames`, null);
      return;
    }
    const { cause, reason } = describeExit(exit, run.stderrTail);
    const delay = this.nextDelay(run);
    this.emit('failed', cause, reason, delay);
    this.scheduleRetry(delay);
  }

  private nextDelay(run: Run): number {
    if (run.streamingSince !== null && Date.now() - run.streamingSince >= this.healthyAfterMs) this.attempt = 0;
    this.attempt++;
    return backoffDelay(this.attempt, this.backoff, this.random);
  }

  private scheduleRetry(delay: number): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closing) return;
      this.reconnects++;
      this.launch();
    }, delay);
  }

  private emit(
    state: CaptureState,
    cause: CaptureCause,
    reason: string,
    nextRetryMs: number | null,
    attempt: number = this.attempt,
  ): void {
    const status: CaptureStatus = {
      state,
      reason: redactSecrets(reason, this.secrets),
      cause,
      attempt,
      nextRetryMs,
      frameSize: this.size,
      at: Date.now(),
      counters: this.counters,
    };
    this.current = status;
    const level = state === 'failed' || state === 'stalled' ? 'warn' : 'info';
    this.log(
      level,
      { state, cause, attempt, nextRetryMs, reconnects: this.reconnects, dropped: status.counters.framesDropped },
      `capture ${state}: ${status.reason}`,
    );
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (err) {
        this.log('warn', { err: err instanceof Error ? err.message : String(err) }, 'capture status listener threw');
      }
    }
  }

  /** Every log line goes through redaction, whatever its origin. */
  private log(level: 'debug' | 'info' | 'warn', fields: Record<string, unknown>, msg: string): void {
    const clean: Record<string, unknown> = { capture: this.options.name };
    for (const [key, value] of Object.entries(fields)) {
      if (typeof value === 'string') clean[key] = redactSecrets(value, this.secrets);
      else if (Array.isArray(value))
        clean[key] = (value as unknown[]).map((v) => (typeof v === 'string' ? redactSecrets(v, this.secrets) : v));
      else clean[key] = value;
    }
    this.logger[level](clean, redactSecrets(msg, this.secrets));
  }
}
