import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseLogger } from '../database.types';
import { PgliteServer } from './pglite.server';
import type { WorkerRequest, WorkerStart, WorkerUpdate } from './embedded-database';

/**
 * Worker-thread entry of the embedded database. PGlite runs every query synchronously in WASM; in its own thread
 * it cannot stall the centre's event loop (MQTT, HTTP), and a WASM abort ends this thread, not the process.
 */
const port = parentPort;
if (!port) throw new Error('pglite.worker must run as a worker thread');
const post = (update: WorkerUpdate) => port.postMessage(update);
const log =
  (level: 'info' | 'warn' | 'error' | 'debug') =>
  (obj: object, msg?: string): void =>
    post({ type: 'log', level, obj, msg });
const logger: DatabaseLogger = { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') };

const start = workerData as WorkerStart;
let server: PgliteServer | null = null;

port.on('message', (request: WorkerRequest) => {
  if (request.type !== 'stop') return;
  const stopping = server ? server.stop() : Promise.resolve();
  stopping.then(
    () => {
      post({ type: 'stopped' });
      port.close();
    },
    (err: unknown) => {
      post({ type: 'stopped', error: (err as Error).message });
      port.close();
    },
  );
});

PgliteServer.start({ dataDir: start.dataDir, port: start.port, logger }).then(
  (s) => {
    server = s;
    post({ type: 'ready', port: s.port });
  },
  (err: unknown) => post({ type: 'failed', error: (err as Error).stack ?? String(err) }),
);
