import type { Detector } from './detector';
import type { Detection, RawFrame } from './detector.types';

/**
 * Runs a detector over a stream of frames with one frame in flight ahead: frame N+1 is taken and handed to the
 * detector (which pre-processes it at once) before frame N's detections are handled. With inference on its own
 * thread (WorkerDetector), capture, pre-processing and the per-frame handling (tracking, rules) of one frame then
 * overlap the inference of the other, instead of adding to it. Frames are handled one at a time, in order; a
 * detection error ends the loop with that error, unless `skip` says that frame can be passed over.
 */
export async function detectEach<F extends RawFrame>(
  frames: AsyncIterable<F>,
  detector: Pick<Detector, 'detect'>,
  handle: (frame: F, detections: Detection[]) => void | Promise<void>,
  stop: () => boolean = () => false,
  skip: (err: unknown, frame: F) => boolean = () => false,
): Promise<void> {
  let ahead: { frame: F; detections: Promise<Detection[]> } | null = null;
  const finish = async (a: { frame: F; detections: Promise<Detection[]> }) => {
    let detections: Detection[];
    try {
      detections = await a.detections;
    } catch (err) {
      if (skip(err, a.frame)) return;
      throw err;
    }
    await handle(a.frame, detections);
  };
  for await (const frame of frames) {
    if (stop()) break;
    const next = { frame, detections: detector.detect(frame) };
    // Awaited in its turn; until then a rejection must not count as unhandled.
    next.detections.catch(() => undefined);
    if (ahead) await finish(ahead);
    ahead = next;
    if (stop()) break;
  }
  if (ahead && !stop()) await finish(ahead);
}
