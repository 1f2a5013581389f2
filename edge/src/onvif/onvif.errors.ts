/** Why talking to an ONVIF device failed; callers branch on the code, operators read the message. */
export enum OnvifErrorCode {
  /** The device refused the credentials (SOAP fault ter:NotAuthorized, or HTTP 401). */
  UNAUTHORIZED = 'UNAUTHORIZED',
  /** Nothing answered at the address (connection refused, no route, DNS failure). */
  UNREACHABLE = 'UNREACHABLE',
  /** The device accepted the connection but did not answer in time. */
  TIMEOUT = 'TIMEOUT',
  /** The device reports no media profile with a video encoder, so there is no stream to pull. */
  NO_PROFILES = 'NO_PROFILES',
  /** The device answered with something that is not a usable ONVIF response (or a fault other than the above). */
  PROTOCOL = 'PROTOCOL',
  /** WS-Discovery could not send or receive (socket error, no multicast route and no directed target). */
  DISCOVERY_FAILED = 'DISCOVERY_FAILED',
}

/** An ONVIF failure whose message is safe to log: it never carries credentials. */
export class OnvifError extends Error {
  override readonly name = 'OnvifError';

  constructor(
    readonly code: OnvifErrorCode,
    message: string,
    /** The device, as `host:port`, for grouping errors per camera. */
    readonly device?: string,
  ) {
    super(message);
  }
}
