/**
 * The detector's thread: owns the onnxruntime session (whose run() blocks the thread it is called on) and answers
 * `infer` requests on input the main thread has already pre-processed, one at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inputFeeds, loadDetector, type OnnxDetector } from './detector';
import type { DetectorWorkerData, FromDetectorWorker, ToDetectorWorker } from './detector-worker.protocol';
import { DetectorError, DetectorErrorCode } from './detector.errors';

const port = parentPort;
if (!port) throw new Error('detector.worker must run as a worker thread');
const { manifest, modelsDir, options } = workerData as DetectorWorkerData;
const send = (m: FromDetectorWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof DetectorError) return { code: err.code, message: err.message.slice(err.code.length + 2) };
  return { code: 'WORKER_FAILED', message: err instanceof Error ? err.message : String(err) };
}

let detector: OnnxDetector | null = null;
/** The frame size DETR-family models decode against; one buffer for every request (others take no size input). */
const sizeData = manifest.family === 'detr' ? new BigInt64Array(2) : undefined;
let queue: Promise<void> = Promise.resolve();
/** A `configure` that arrived while the model was still loading applies once it has. */
let pendingNmsIou: number | null = null;

port.on('message', (m: ToDetectorWorker) => {
  // One request at a time, in order: requests share nothing, but the session runs one inference at a time anyway.
  queue = queue.then(() => handle(m));
});

async function handle(m: ToDetectorWorker): Promise<void> {
  if (m.type === 'close') {
    await detector?.close();
    detector = null;
    send({ type: 'closed' });
    return;
  }
  if (m.type === 'configure') {
    pendingNmsIou = m.nmsIou;
    detector?.setNmsIou(m.nmsIou);
    return;
  }
  const input = m.input;
  try {
    if (!detector) throw new DetectorError(DetectorErrorCode.DETECTOR_CLOSED, `detector ${manifest.id} is closed`);
    if (sizeData) {
      sizeData[0] = BigInt(m.frameSize[0]);
      sizeData[1] = BigInt(m.frameSize[1]);
    }
    const r = await detector.inferPrepared(inputFeeds(manifest, input, sizeData), m.geometry);
    send({ type: 'result', id: m.id, input, ...r }, [input.buffer as ArrayBuffer]);
  } catch (err) {
    send({ type: 'failed', id: m.id, input, ...describe(err) }, [input.buffer as ArrayBuffer]);
  }
}

loadDetector(manifest, modelsDir, options)
  .then((d) => {
    detector = d;
    if (pendingNmsIou !== null) d.setNmsIou(pendingNmsIou);
    send({ type: 'ready', provenance: d.provenance, warmInferenceMs: d.warmInferenceMs });
  })
  .catch((err: unknown) => send({ type: 'load-failed', ...describe(err) }));
