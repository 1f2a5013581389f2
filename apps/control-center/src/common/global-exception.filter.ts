import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { ApiErrorBody } from '@vigil/contracts';
import type { Response } from 'express';
import type { Logger } from './logger';
import { AppError, codeOfHttpStatus, httpStatusOf } from './app-error';

/** An error from the HTTP stack below Nest (body-parser's http-errors): a 4xx it means to tell the client. */
interface ExposedHttpError {
  status: number;
  expose: true;
  message: string;
}

function isExposedHttpError(e: unknown): e is ExposedHttpError {
  const x = e as Partial<ExposedHttpError> | null;
  return typeof x?.status === 'number' && x.status >= 400 && x.status < 500 && x.expose === true;
}

/** The client-facing text of a Nest HttpException (its response body's `message`, which may be a list). */
function messageOf(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * The one place errors become HTTP responses, always as the contracts' `ApiErrorBody`: AppError by its code's
 * status, Nest's HttpExceptions and body-parser errors by theirs; anything else is a 500 that says only that
 * something failed (internals never leak; the log has them).
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const send = (status: number, body: ApiErrorBody) => void res.status(status).json(body);
    if (exception instanceof AppError) {
      send(httpStatusOf(exception.code), {
        error: exception.code,
        message: exception.message,
        ...(exception.details ? { details: exception.details } : {}),
      });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) this.logger.error({ err: exception }, 'server error');
      send(status, {
        error: codeOfHttpStatus(status),
        message: status >= 500 ? 'Internal server error' : messageOf(exception),
      });
      return;
    }
    if (isExposedHttpError(exception)) {
      send(exception.status, { error: codeOfHttpStatus(exception.status), message: exception.message });
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error');
    send(500, { error: 'INTERNAL', message: 'Internal server error' });
  }
}
