import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Server, ServerOptions } from 'socket.io';
import type { Logger } from '../common/logger';

/** What the adapter keeps of a node-redis client: itself for socket.io's adapter, and `quit` to close it. */
type RedisClient = { quit(): Promise<unknown> };

/**
 * socket.io for the centre's gateways. With a Redis URL, socket.io's Redis adapter: a push broadcast by one
 * replica reaches the sockets connected to every replica (room broadcasts go through Redis pub/sub). Without one,
 * rooms live in this process. Its Redis clients are closed with the application.
 */
export class PushIoAdapter extends IoAdapter {
  private constructor(
    app: INestApplicationContext,
    private readonly clients: RedisClient[],
  ) {
    super(app);
  }

  /** Connects Redis first (when configured), so a replica that cannot reach it refuses to start, loudly. */
  static async create(
    app: INestApplicationContext,
    redisUrl: string | undefined,
    logger: Logger,
  ): Promise<PushIoAdapter> {
    if (redisUrl === undefined) return new PushIoAdapter(app, []);
    const log = logger.child({ c: 'push' });
    const pub = createClient({ url: redisUrl });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on('error', (err: Error) => log.error({ err: err.message }, 'redis client error'));
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (err) {
      await Promise.allSettled([pub.quit(), sub.quit()].map((p) => p.catch(() => pub.destroy())));
      throw err;
    }
    return new PushIoAdapter(app, [pub, sub]);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    if (this.clients.length === 2) {
      // The adapter's typings name an older client generation; the node-redis client is the one it documents.
      type Client = Parameters<typeof createAdapter>[0];
      server.adapter(createAdapter(this.clients[0] as Client, this.clients[1] as Client));
    }
    return server;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    await Promise.allSettled(this.clients.splice(0).map((c) => c.quit()));
  }
}
