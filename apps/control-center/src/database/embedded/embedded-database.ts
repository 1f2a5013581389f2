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

/** Under tsx or ts-jest-like runners this module is TypeScript; the worker then needs tsx to load its entry. */
function workerEntry(): { file: string; execArgv: string[] } {
  const ts = __filename.endsWith('.ts');
  return {
    file: join(__dirname, `pglite.worker.${ts ? 'ts' : 'js'}`),
    execArgv: ts ? ['--require', require.resolve('tsx/cjs')] : [],
  };
}

const START_TIMEOUT_MS = 120_000;

/**
 * The embedded PostgreSQL (PGlite + TimescaleDB) in a worker thread, listening on a loopback port. The data
 * directory is locked for this process while it runs.
 */
export class EmbeddedDatabase {
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly port: number,
    private readonly lock: DataDirLock,
    exited: Promise<void>,
    private readonly state: { stopping: boolean },
  ) {
    this.exited = exited;
  }

  static async start(options: { dataDir: string; port?: number; logger: DatabaseLogger }): Promise<EmbeddedDatabase> {
    const { logger } = options;
    const lock = DataDirLock.acquire(join(options.dataDir, 'vigil-embedded.lock'));
    const { file, execArgv } = workerEntry();
    const workerData: WorkerStart = { dataDir: options.dataDir, port: options.port ?? 0 };
    let worker: Worker;
    try {
      worker = new Worker(file, { workerData, execArgv });
    } catch (err) {
      lock.release();
      throw err;
    }
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
    const state = { stopping: false };
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        lock.release();
        if (!state.stopping) logger.error({ code }, 'embedded database thread exited unexpectedly');
        failed(new Error(`embedded database thread exited with code ${code}`));
        resolve();
      });
    });
    const timer = setTimeout(() => failed(new Error('embedded database did not start in time')), START_TIMEOUT_MS);
    try {
      const port = await started;
      return new EmbeddedDatabase(worker, port, lock, exited, state);
    } catch (err) {
      state.stopping = true;
      await worker.terminate();
      await exited;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every connection, shuts PGlite down cleanly (a checkpoint), ends the thread and releases the lock. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state.stopping = true;
      const stopped = new Promise<void>((resolve) => {
        const onMessage = (u: WorkerUpdate) => {
          if (u.type === 'stopped') {
            this.worker.off('message', onMessage);
            resolve();
          }
        };
        this.worker.on('message', onMessage);
        this.exited.then(resolve, resolve);
      });
      this.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
      await stopped;
      await this.worker.terminate();
      await this.exited;
      this.lock.release();
    })();
    return this.stopping;
  }
}
