import pino, { type Logger } from 'pino';

export type { Logger };

/** One structured logger per process; components take a child with their name. */
export function createLogger(level: string, name = 'control-center'): Logger {
  return pino({
    name,
    level,
    // Credentials can reach log objects through fields and headers; cut them at the source (URLs go through
    // redactUrl of @vigil/common before they are logged).
    redact: {
      paths: ['password', '*.password', 'req.headers.authorization', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  });
}
