/** RTP transport for an RTSP camera: TCP (interleaved) survives NAT and loss better; some cameras only do UDP. */
export type RtspTransport = 'tcp' | 'udp';

export interface RtspSource {
  kind: 'rtsp';
  /** `rtsp://host:port/path`; may carry `user:pass@`, but prefer `username` / `password` so the URL can be logged. */
  url: string;
  transport?: RtspTransport;
  username?: string;
  password?: string;
}

export interface FileSource {
  kind: 'file';
  path: string;
  /** Read at the clip's own frame rate (`-re`), like a live camera; otherwise decode as fast as possible. */
  realtime?: boolean;
  /** Start again at the end (`-stream_loop -1`); otherwise the capture ends with the file. */
  loop?: boolean;
}

export type CaptureSource = RtspSource | FileSource;

/**
 * `keep-aspect` scales the picture to fit inside width x height without distortion (the delivered size follows the
 * source's aspect ratio); `exact` scales to width x height exactly.
 */
export type FitMode = 'keep-aspect' | 'exact';

export interface CaptureOutput {
  width: number;
  height: number;
  fit?: FitMode;
  /** Detection rate in frames/s (ffmpeg `fps` filter); undefined keeps the source's rate. */
  fps?: number;
}

/** One decoded frame; structurally a detector `RawFrame` (packed BGR, rows without padding). */
export interface CapturedFrame {
  data: Buffer;
  width: number;
  height: number;
  pixelFormat: 'bgr24';
  /** Monotonic across reconnects, starting at 1. */
  seq: number;
  /** Media time since the start of the current decoder run, from the output frame rate (file sources: clip time). */
  ptsMs: number;
  /** Wall clock (epoch ms) when the frame's last byte arrived. */
  capturedAt: number;
}

/** The camera-status contract's states (libs/contracts CAMERA_STATES). */
export type CaptureState = 'connecting' | 'streaming' | 'stalled' | 'failed';

/** Machine-readable class of a reason, for metrics and for tests; `reason` is the human text. */
export type CaptureCause =
  | 'starting'
  | 'streaming'
  | 'connection-refused'
  | 'not-found'
  | 'unauthorized'
  | 'unreachable'
  | 'timeout'
  | 'stalled'
  | 'stream-ended'
  | 'end-of-input'
  | 'bad-input'
  | 'ffmpeg-error'
  | 'spawn-failed';

export interface CaptureCounters {
  /** Frames received from ffmpeg, over all runs. */
  framesDecoded: number;
  /** Frames handed to the consumer. */
  framesDelivered: number;
  /** Frames overwritten in the one-slot mailbox before the consumer took them (newest frame wins). */
  framesDropped: number;
  /** Decoder restarts after the first start. */
  reconnects: number;
  /** Epoch ms of the last frame, null before the first. */
  lastFrameAt: number | null;
}

export interface CaptureStatus {
  state: CaptureState;
  /** Human reason; never contains credentials. */
  reason: string;
  cause: CaptureCause;
  /** Reconnect attempt number since the last healthy stream (0 while streaming). */
  attempt: number;
  /** Delay before the next attempt when one is scheduled, else null. */
  nextRetryMs: number | null;
  /** Size of the delivered frames once known. */
  frameSize: { width: number; height: number } | null;
  /** Epoch ms of the change. */
  at: number;
  counters: CaptureCounters;
}

/** Pino-compatible subset, so the edge's pino logger can be passed as is. */
export interface CaptureLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
