export { FrameCapture } from './frame-capture.service';
export type { FrameCaptureDeps, FrameCaptureOptions, StatusListener } from './frame-capture.service';
export type {
  CaptureCause,
  CaptureCounters,
  CaptureLogger,
  CaptureOutput,
  CaptureSource,
  CaptureState,
  CaptureStatus,
  CapturedFrame,
  FileSource,
  FitMode,
  RtspSource,
  RtspTransport,
} from './capture.types';
export { DEFAULT_BACKOFF, backoffDelay } from '../common/backoff';
export type { BackoffOptions } from '../common/backoff';
