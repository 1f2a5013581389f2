import type { CameraConfig, EdgeConfig, Heartbeat, ModelProvenance, SnapshotRequest } from '@vigil/contracts';
import type { Logger } from 'pino';

import { backoffDelay } from '../common/backoff';
import type { CaptureOutput, CaptureSource, CaptureStatus, CapturedFrame } from '../capture/capture.types';
import { FrameCapture } from '../capture/frame-capture.service';
import { detectEach } from '../detect/detect-each';
import type { Detector } from '../detect/detector';
import { DetectorError, DetectorErrorCode } from '../detect/detector.errors';
import type { Detection } from '../detect/detector.types';
import { privacyFor, type EvidenceService } from '../evidence/evidence.service';
import { describeOnvifCamera } from '../onvif';
import type { OutboxItem } from '../outbox/outbox.types';
import type { EvidenceRequest, RuleMessage } from '../rules/rules.types';
import type { RulesOutput } from '../rules/rules-engine';
import { CameraAnalysis, type CameraAnalysisOptions } from './camera-analysis';
import type { Clock } from './clock';
import { clipStatusReason } from './report-limits';

export interface CameraCredentials {
  username: string;
  password: string;
}

/** An analysed frame: what tracking, rules and evidence receive. */
export interface AnalysedFrame {
  cameraId: string;
  frame: CapturedFrame;
  detections: Detection[];
  inferenceMs: number;
}

/** Where the pipeline's messages go: the durable outbox (EdgeDelivery satisfies it). */
export interface OutboxPort {
  enqueue(item: OutboxItem): unknown;
  enqueueMany(items: readonly OutboxItem[]): unknown;
}

/** The frames of one camera (FrameCapture satisfies it; tests give a scripted source). */
export interface FrameSource {
  onStatus(listener: (status: CaptureStatus) => void): unknown;
  start(): void;
  frames(): AsyncIterable<CapturedFrame>;
  readonly counters: { framesDropped: number };
  close(): Promise<void>;
}

export type OpenCapture = (o: {
  source: CaptureSource;
  output: CaptureOutput;
  logger: Logger;
  name: string;
}) => FrameSource;

const openFrameCapture: OpenCapture = (o) => new FrameCapture(o);

export interface CameraPipelineOptions {
  camera: CameraConfig;
  /** The node configuration in force (zones, lines, rules, thresholds, privacy). */
  config: EdgeConfig;
  credentials: CameraCredentials | undefined;
  detector: Detector;
  /** Provenance stamped on events (model and thresholds in force). */
  model: ModelProvenance;
  clock: Clock;
  outbox: OutboxPort;
  evidence: Pick<EvidenceService, 'capture'>;
  logger: Logger;
  openCapture?: OpenCapture;
  analysis?: Pick<CameraAnalysisOptions, 'tracker' | 'rules'>;
}

export interface CameraStats {
  framesAnalysed: number;
  inferenceMsTotal: number;
  droppedFrames: number;
  /** Frames lost with a detector thread that died (its replacement takes the next ones). */
  failedFrames: number;
  lastDetections: Detection[];
}

/**
 * One camera's whole chain, stage by stage (Frigate-style): resolve the stream (ONVIF, RTSP or file) → capture
 * (newest frame wins) → detect → track → rules → evidence → outbox. Never throws out of its loop: a broken camera is
 * retried with backoff and reported through its status. Building it builds its tracker and rules (and throws if
 * the configuration cannot run), so a configuration is checked before anything running is touched.
 */
export class CameraPipeline {
  private capture: FrameSource | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly analysis: CameraAnalysis;
  private config: EdgeConfig;
  private lastState: CaptureStatus['state'] | null = null;
  private window: { frames: number; inferenceMs: number; since: number };
  /** The newest analysed frame, for operator snapshot requests. */
  private lastFrame: AnalysedFrame | null = null;
  private readonly evidenceInFlight = new Set<Promise<void>>();
  readonly stats: CameraStats = {
    framesAnalysed: 0,
    inferenceMsTotal: 0,
    droppedFrames: 0,
    failedFrames: 0,
    lastDetections: [],
  };

  constructor(private readonly o: CameraPipelineOptions) {
    this.config = o.config;
    this.analysis = new CameraAnalysis({
      ...o.analysis,
      cameraId: o.camera.id,
      config: o.config,
      model: o.model,
      clock: o.clock,
    });
    this.window = { frames: 0, inferenceMs: 0, since: o.clock.monoMs() };
  }

  get cameraId(): string {
    return this.o.camera.id;
  }

  get camera(): CameraConfig {
    return this.o.camera;
  }

  get state(): CaptureStatus['state'] | null {
    return this.lastState;
  }

  get activeViolations(): number {
    return this.analysis.engine.activeViolations().length;
  }

  /** The provenance this camera's events carry now. */
  get provenance(): ModelProvenance {
    return this.analysis.engine.provenance;
  }

  /** The tracker's thresholds in force (for diagnostics and tests). */
  get thresholds() {
    return this.analysis.tracker.thresholds;
  }

  start(): void {
    this.loop ??= this.run().catch((err: Error) => this.o.logger.error({ err: err.message }, 'camera loop ended'));
  }

  /** A new configuration for this camera while it keeps running: thresholds, provenance, rules and privacy. */
  reconfigure(config: EdgeConfig, model: ModelProvenance): void {
    this.emit(this.analysis.reconfigure(config, model));
    this.config = config;
  }

  /** Publishes count intervals that ended while no frame arrived. */
  tick(): void {
    if (!this.stopped) this.emit(this.analysis.tick());
  }

  /**
   * Stops capture and waits for the frame being handled, THEN ends the rules (violations end "shutdown", open count
   * intervals are published): a frame in flight is counted before the counts are flushed.
   */
  async stop(): Promise<void> {
    if (this.stopped && !this.loop) return;
    this.stopped = true;
    await this.capture?.close();
    await this.loop;
    this.loop = null;
    await Promise.all(this.evidenceInFlight);
    this.emit(this.analysis.shutdown());
  }

  /** The heartbeat's entry for this camera since the last one. */
  heartbeatEntry(): Heartbeat['cameras'][number] {
    const now = this.o.clock.monoMs();
    const seconds = Math.max(0.001, (now - this.window.since) / 1000);
    const entry = {
      cameraId: this.cameraId,
      state: this.lastState ?? 'connecting',
      fps: this.window.frames / seconds,
      inferenceMs: this.window.frames ? this.window.inferenceMs / this.window.frames : 0,
      droppedFrames: this.stats.droppedFrames,
    };
    this.window = { frames: 0, inferenceMs: 0, since: now };
    return entry;
  }

  /** An operator asked for a picture: the newest analysed frame, masked like any evidence. */
  async snapshot(request: SnapshotRequest): Promise<boolean> {
    const f = this.lastFrame;
    if (!f) return false;
    await this.o.evidence.capture({
      cameraId: this.cameraId,
      eventId: null,
      requestId: request.requestId,
      capturedAt: new Date(f.frame.capturedAt),
      frame: f.frame,
      box: null,
      persons: f.detections.filter((d) => d.cls === 'person').map((d) => d.box),
      ...privacyFor(this.config, this.cameraId),
    });
    return true;
  }

  private async resolveSource(): Promise<CaptureSource> {
    const { camera, credentials, detector } = this.o;
    const src = camera.source;
    switch (src.kind) {
      case 'file':
        return { kind: 'file', path: src.path, realtime: true, loop: src.loop };
      case 'rtsp':
        return { kind: 'rtsp', url: src.url, transport: src.transport, ...credentials };
      case 'onvif': {
        const [, , h, w] = detector.manifest.input.shape;
        // ONVIF can fail before any stream exists (device down, bad credentials): retry with the same backoff.
        for (let attempt = 1; ; attempt++) {
          try {
            const d = await describeOnvifCamera({
              xaddr: src.xaddr,
              username: credentials?.username ?? '',
              password: credentials?.password ?? '',
              modelInput: { width: w, height: h },
              resize: detector.manifest.input.resize.mode,
              profileToken: src.profileToken,
            });
            this.o.logger.info({ profile: d.detection.profile.token }, 'ONVIF detection stream');
            return { kind: 'rtsp', url: d.detection.streamUri, transport: src.transport, ...credentials };
          } catch (err) {
            if (this.stopped) throw err;
            const delay = backoffDelay(attempt);
            this.onStatus(this.failedStatus(`ONVIF: ${(err as Error).message}`, attempt, delay));
            await new Promise((r) => setTimeout(r, delay));
            if (this.stopped) throw err;
          }
        }
      }
    }
  }

  private failedStatus(reason: string, attempt: number, nextRetryMs: number): CaptureStatus {
    return {
      state: 'failed',
      reason,
      cause: 'unreachable',
      attempt,
      nextRetryMs,
      frameSize: null,
      at: this.o.clock.wallMs(),
      counters: { framesDecoded: 0, framesDelivered: 0, framesDropped: 0, reconnects: 0, lastFrameAt: null },
    };
  }

  private onStatus(s: CaptureStatus): void {
    // Publish changes of state (and every failure, whose reason and retry delay matter), not every counter tick.
    if (s.state === this.lastState && s.state === 'streaming') return;
    this.lastState = s.state;
    this.o.outbox.enqueue({
      kind: 'camera_status',
      cameraId: this.cameraId,
      message: {
        state: s.state,
        reason: clipStatusReason(s.reason),
        attempt: s.attempt,
        nextRetryMs: s.nextRetryMs,
        frameSize: s.frameSize,
        ts: new Date(s.at).toISOString(),
      },
    });
  }

  private async run(): Promise<void> {
    const { camera, detector } = this.o;
    const source = await this.resolveSource();
    if (this.stopped) return;
    const [, , h, w] = detector.manifest.input.shape;
    const capture = (this.o.openCapture ?? openFrameCapture)({
      source,
      // ffmpeg scales to fit the model input (aspect kept): pre-processing is then a plain convert, not a resize.
      output: { width: w, height: h, fit: 'keep-aspect', fps: camera.detectFps },
      logger: this.o.logger,
      name: camera.id,
    });
    this.capture = capture;
    capture.onStatus((s) => this.onStatus(s));
    capture.start();
    // One frame in flight ahead: capture and pre-processing of the next frame overlap this one's inference.
    await detectEach(
      capture.frames(),
      detector,
      (frame, detections) =>
        this.handle({ cameraId: camera.id, frame, detections, inferenceMs: detector.lastTimings.inferenceMs }),
      () => this.stopped,
      // A detector thread that died fails the frames it held; the pool replaces it, so the camera goes on.
      (err) => {
        if (!(err instanceof DetectorError) || err.code !== DetectorErrorCode.WORKER_FAILED) return false;
        this.stats.failedFrames++;
        this.o.logger.warn({ err: err.message, failedFrames: this.stats.failedFrames }, 'frame lost with its detector');
        return true;
      },
    );
  }

  /** Track, rules, evidence and outbox for one analysed frame. */
  private handle(f: AnalysedFrame): void {
    this.stats.framesAnalysed++;
    this.stats.inferenceMsTotal += f.inferenceMs;
    this.stats.droppedFrames = this.capture?.counters.framesDropped ?? this.stats.droppedFrames;
    this.stats.lastDetections = f.detections;
    this.lastFrame = f;
    this.window.frames++;
    this.window.inferenceMs += f.inferenceMs;
    const out = this.analysis.analyse(f.detections, f.frame.capturedAt);
    // A violation start waits for its snapshot, so that the alert and its evidence become durable together.
    const wanted = new Map(out.evidence.map((r) => [r.eventId, r]));
    const starts = new Map<string, RuleMessage>();
    const now: RuleMessage[] = [];
    for (const m of out.messages) {
      if (m.kind === 'event' && m.body.phase === 'start' && wanted.has(m.body.eventId)) starts.set(m.body.eventId, m);
      else now.push(m);
    }
    this.emitMessages(now);
    for (const [eventId, start] of starts) {
      const job = this.captureEvidence(f, wanted.get(eventId)!, start);
      this.evidenceInFlight.add(job);
      void job.finally(() => this.evidenceInFlight.delete(job));
    }
  }

  private async captureEvidence(f: AnalysedFrame, req: EvidenceRequest, start: RuleMessage): Promise<void> {
    try {
      const { ref } = await this.o.evidence.capture(
        {
          cameraId: this.cameraId,
          eventId: req.eventId,
          capturedAt: new Date(req.frameMs),
          frame: f.frame,
          box: req.box,
          persons: f.detections.filter((d) => d.cls === 'person').map((d) => d.box),
          ...privacyFor(this.config, this.cameraId),
        },
        (r) => [this.toItem({ ...start, body: { ...start.body, evidence: r } } as RuleMessage)],
      );
      this.analysis.engine.attachEvidence(req.eventId, ref);
    } catch (err) {
      // The alert matters more than its picture: send it without evidence rather than not at all.
      this.o.logger.error({ eventId: req.eventId, err: (err as Error).message }, 'evidence failed');
      this.emitMessages([start]);
    }
  }

  private toItem(m: RuleMessage): OutboxItem {
    return {
      kind: m.kind,
      cameraId: this.cameraId,
      message: { ...m.body, ts: new Date(m.atMs).toISOString() },
    } as OutboxItem;
  }

  private emit(out: RulesOutput): void {
    this.emitMessages(out.messages);
  }

  private emitMessages(messages: readonly RuleMessage[]): void {
    if (messages.length > 0) this.o.outbox.enqueueMany(messages.map((m) => this.toItem(m)));
  }
}
