import type { ApiErrorCode, ApiErrorDetail } from '@vigil/contracts';

/** The API's error codes (defined once, in `libs/contracts`), as values for `throw new AppError(...)`. */
export const AppErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_READY: 'NOT_READY',
  INTERNAL: 'INTERNAL',
} as const satisfies { [K in ApiErrorCode]: K };
export type AppErrorCode = ApiErrorCode;

/**
 * The one code -> HTTP status table (twenty-style). A `Record` over every code: a code added to the contracts
 * without a status here does not compile.
 */
export const HTTP_STATUS: Readonly<Record<AppErrorCode, number>> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_READY: 503,
};

/** Services throw AppError; the global filter turns it into the status above and the contracts' error body. */
export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Field path(s) at fault, for 4xx bodies that name the field. */
    readonly details?: ApiErrorDetail[],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function httpStatusOf(code: AppErrorCode): number {
  return HTTP_STATUS[code];
}

/** The code of an HTTP status that did not come from an AppError (Nest's own exceptions, body-parser errors). */
export function codeOfHttpStatus(status: number): AppErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'NOT_READY';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}
