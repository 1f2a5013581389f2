import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DatabaseLogger } from '../database.types';
import { DataDirLock } from './data-dir.lock';

export interface WorkerStart {
  dataDir: string;
  port: number;
}
export type WorkerRequest = { type: 'stop' };
export type WorkerUpdate =
  | { type: 'ready'; port: number }
  | { type: 'failed'; error: string }
  | { type: 'stopped'; error?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; obj: object; msg?: string };

/** Under tsx (npm start, jest) this module is TypeScript; the worker then needs tsx to load its entry. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ts = __filename.endsWith('.ts');
  return {
    file: join(__dirname, `pglite.worker.${ts ? 'ts' : 'js'}`),
    execArgv: ts ? ['--require', require.resolve('tsx/cjs')] : [],
  };
}

const START_TIMEOUT_MS = 120_000;
const RESTART_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

interface RunningWorker {
  worker: Worker;
  port: number;
  /** Settles when the thread has ended, with its exit code. */
  exited: Promise<number>;
}

/** Starts one worker thread and waits until its server listens. */
async function spawn(dataDir: string, port: number, logger: DatabaseLogger): Promise<RunningWorker> {
  const { file, execArgv } = workerEntry();
  const worker = new Worker(file, { workerData: { dataDir, port } satisfies WorkerStart, execArgv });
  let ready: (port: number) => void = () => undefined;
  let failed: (err: Error) => void = () => undefined;
  const started = new Promise<number>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  worker.on('message', (u: WorkerUpdate) => {
    if (u.type === 'log') logger[u.level](u.obj, u.msg);
    else if (u.type === 'ready') ready(u.port);
    else if (u.type === 'failed') failed(new Error(`embedded database failed to start: ${u.error}`));
  });
  worker.on('error', (err) => {
    logger.error({ err: err.message }, 'embedded database thread crashed');
    failed(err);
  });
  const exited = new Promise<number>((resolve) => {
    worker.once('exit', (code) => {
      failed(new Error(`embedded database thread exited with code ${code}`));
      resolve(code);
    });
  });
  const timer = setTimeout(() => failed(new Error('embedded database did not start in time')), START_TIMEOUT_MS);
  try {
    return { worker, port: await started, exited };
  } catch (err) {
    await worker.terminate();
    await exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The embedded PostgreSQL (PGlite + TimescaleDB) in a worker thread, listening on a loopback port. The data
 * directory is locked for this process while it runs. If the thread dies (a WASM abort), it is started again on the
 * same port after a short delay: PostgreSQL recovers from its WAL, and the pool's next connection reaches it.
 */
export class EmbeddedDatabase {
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;

  private constructor(
    private current: RunningWorker | null,
    readonly port: number,
    private readonly dataDir: string,
    private readonly lock: DataDirLock,
    private readonly logger: DatabaseLogger,
  ) {
    if (current) this.watch(current);
  }

  static async start(options: { dataDir: string; port?: number; logger: DatabaseLogger }): Promise<EmbeddedDatabase> {
    const lock = DataDirLock.acquire(join(options.dataDir, 'vigil-embedded.lock'));
    try {
      const running = await spawn(options.dataDir, options.port ?? 0, options.logger);
      return new EmbeddedDatabase(running, running.port, options.dataDir, lock, options.logger);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Whether the database thread is up (false while it restarts after a crash). */
  get running(): boolean {
    return this.current !== null;
  }

  private watch(running: RunningWorker): void {
    void running.exited.then((code) => {
      if (this.stopping || this.current !== running) return;
      this.current = null;
      const delay = RESTART_DELAYS_MS[Math.min(this.restarts, RESTART_DELAYS_MS.length - 1)];
      this.restarts++;
      this.logger.error({ code, restartInMs: delay }, 'embedded database thread exited unexpectedly; restarting');
      this.restartTimer = setTimeout(() => this.restart(), delay);
    });
  }

  private restart(): void {
    this.restartTimer = null;
    if (this.stopping) return;
    spawn(this.dataDir, this.port, this.logger).then(
      (running) => {
        if (this.stopping) {
          void this.stopWorker(running);
          return;
        }
        this.current = running;
        this.watch(running);
        this.logger.info({ port: this.port, restarts: this.restarts }, 'embedded database restarted');
      },
      (err: unknown) => {
        this.logger.error({ err: (err as Error).message }, 'embedded database restart failed');
        const delay = RESTART_DELAYS_MS[Math.min(this.restarts++, RESTART_DELAYS_MS.length - 1)];
        this.restartTimer = setTimeout(() => this.restart(), delay);
      },
    );
  }

  /** Asks the thread to close its connections and PGlite cleanly (a checkpoint), then ends it. */
  private async stopWorker(running: RunningWorker): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      running.worker.on('message', (u: WorkerUpdate) => {
        if (u.type === 'stopped') resolve();
      });
      void running.exited.then(() => resolve());
    });
    running.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
    await stopped;
    await running.worker.terminate();
    await running.exited;
  }

  /** Stops the database for good and releases the data directory. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      const running = this.current;
      this.current = null;
      try {
        if (running) await this.stopWorker(running);
      } finally {
        this.lock.release();
      }
    })();
    return this.stopping;
  }
}
