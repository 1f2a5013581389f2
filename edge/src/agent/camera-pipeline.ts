import type { CameraConfig } from '@vigil/contracts';
import { FrameCapture } from '../capture/frame-capture.service';
import type { CaptureSource, CaptureStatus, CapturedFrame } from '../capture/capture.types';
import type { Detection } from '../detect/detector.types';
import type { Detector } from '../detect/detector';
import { detectEach } from '../detect/detect-each';
import { DetectorError, DetectorErrorCode } from '../detect/detector.errors';
import { describeOnvifCamera } from '../onvif';
import { backoffDelay } from '../common/backoff';
import type { Logger } from 'pino';

export interface CameraCredentials {
  username: string;
  password: string;
}

/** What the next stages (tracking, rules, evidence) receive for every analysed frame. */
export interface AnalysedFrame {
  cameraId: string;
  frame: CapturedFrame;
  detections: Detection[];
  inferenceMs: number;
}

export interface CameraPipelineOptions {
  camera: CameraConfig;
  credentials: CameraCredentials | undefined;
  detector: Detector;
  logger: Logger;
  onStatus: (status: CaptureStatus) => void;
  onFrame: (frame: AnalysedFrame) => void | Promise<void>;
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
 * One camera's pipeline, stage by stage (Frigate-style): resolve the stream (ONVIF or plain RTSP or file) → capture
 * (newest frame wins) → detect → hand over to the next stages. Never throws out of its loop: a broken camera is
 * retried with backoff and reported through its status.
 */
export class CameraPipeline {
  private capture: FrameCapture | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  readonly stats: CameraStats = {
    framesAnalysed: 0,
    inferenceMsTotal: 0,
    droppedFrames: 0,
    failedFrames: 0,
    lastDetections: [],
  };

  constructor(private readonly o: CameraPipelineOptions) {}

  get cameraId(): string {
    return this.o.camera.id;
  }

  start(): void {
    this.loop ??= this.run().catch((err: Error) => this.o.logger.error({ err: err.message }, 'camera loop ended'));
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
            });
            return { kind: 'rtsp', url: d.detection.streamUri, transport: src.transport, ...credentials };
          } catch (err) {
            const delay = backoffDelay(attempt);
            this.o.onStatus(this.failedStatus(`ONVIF: ${(err as Error).message}`, attempt, delay));
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
      at: Date.now(),
      counters: { framesDecoded: 0, framesDelivered: 0, framesDropped: 0, reconnects: 0, lastFrameAt: null },
    };
  }

  private async run(): Promise<void> {
    const { camera, detector } = this.o;
    const source = await this.resolveSource();
    const [, , h, w] = detector.manifest.input.shape;
    this.capture = new FrameCapture({
      source,
      // ffmpeg scales to fit the model input (aspect kept): pre-processing is then a plain convert, not a resize.
      output: { width: w, height: h, fit: 'keep-aspect', fps: camera.detectFps },
      logger: this.o.logger,
      name: camera.id,
    });
    this.capture.onStatus((s) => this.o.onStatus(s));
    this.capture.start();
    // One frame in flight ahead: capture and pre-processing of the next frame overlap this one's inference.
    await detectEach(
      this.capture.frames(),
      detector,
      async (frame, detections) => {
        const inferenceMs = detector.lastTimings.inferenceMs;
        this.stats.framesAnalysed++;
        this.stats.inferenceMsTotal += inferenceMs;
        this.stats.droppedFrames = this.capture?.counters.framesDropped ?? this.stats.droppedFrames;
        this.stats.lastDetections = detections;
        await this.o.onFrame({ cameraId: camera.id, frame, detections, inferenceMs });
      },
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

  async stop(): Promise<void> {
    this.stopped = true;
    await this.capture?.close();
    await this.loop;
  }
}
