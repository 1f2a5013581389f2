import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import pinoHttp from 'pino-http';
import { AppModule } from './app.module';
import { createLogger } from './common/logger';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config';
import { PushIoAdapter } from './push/push-io.adapter';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const app = await NestFactory.create(AppModule.forRoot(config, logger), { logger: ['error', 'warn'] });
  // socket.io for the console's live push (through Redis when REDIS_URL is set: several replicas).
  app.useWebSocketAdapter(await PushIoAdapter.create(app, config.push.redisUrl, logger));
  app.use(pinoHttp({ logger: logger.child({ c: 'http' }), autoLogging: { ignore: (req) => req.url === '/metrics' } }));
  app.enableShutdownHooks();
  // A stop must finish even if a dependency hangs (a broker or database that never answers): bounded grace.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error({ signal }, 'shutdown took longer than 15 s, exiting');
        process.exit(1);
      }, 15_000).unref();
    });
  }
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: await app.getUrl() }, 'control centre listening');
}

process.on('unhandledRejection', (reason) => {
  // Never crash on a stray rejection: log it loudly (the lint rules make these rare).
  process.stderr.write(`unhandled rejection: ${String(reason)}\n`);
});

bootstrap().catch((err: unknown) => {
  process.stderr.write(`control centre failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
