/** Why a detector could not load or run; stable strings so logs, status messages and tests can match on them. */
export enum DetectorErrorCode {
  MANIFEST_INVALID = 'MANIFEST_INVALID',
  /** A model id that is not an id (a path, odd characters), or a model this edge's settings do not allow. */
  MODEL_REFUSED = 'MODEL_REFUSED',
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  MODEL_CORRUPT = 'MODEL_CORRUPT',
  CHECKSUM_MISMATCH = 'CHECKSUM_MISMATCH',
  UNKNOWN_OUTPUT_LAYOUT = 'UNKNOWN_OUTPUT_LAYOUT',
  MANIFEST_MISMATCH = 'MANIFEST_MISMATCH',
  INVALID_FRAME = 'INVALID_FRAME',
  INFERENCE_FAILED = 'INFERENCE_FAILED',
  DETECTOR_CLOSED = 'DETECTOR_CLOSED',
  WORKER_FAILED = 'WORKER_FAILED',
}

export class DetectorError extends Error {
  override readonly name = 'DetectorError';

  constructor(
    readonly code: DetectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
