import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** One structured logger per process; components take a child with their name. */
export function createLogger(level: string, name = 'control-center', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    // Credentials can reach log objects through fields and headers; cut them at the source (URLs go through
    // redactUrl of @vigil/common before they are logged).
    redact: {
      // `res.headers["set-cookie"]` carries the refresh token on every sign-in and refresh (pino-http logs it).
      paths: ['password', '*.password', 'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
