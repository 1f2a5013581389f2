import pino from 'pino';

import { loadManifest } from '../detect/model-manifest.loader';
import type { Detection } from '../detect/detector.types';
import { EvidenceService } from '../evidence/evidence.service';
import { boxOnGround, edgeConfig, sequentialIds, TEST_MODEL } from '../rules/testing/synthetic-tracks';
import { CameraPipeline } from './camera-pipeline';
import { frame, MemoryDelivery, ScriptedDetector, ScriptedSource, settle } from './testing/agent.fakes';
import { FakeClock } from './testing/fake-clock';

const CONFIG = edgeConfig({
  lines: [
    {
      id: 'line',
      cameraId: 'cam-1',
      name: 'Line',
      start: [0.2, 0.5],
      end: [0.8, 0.5],
      directions: { a_to_b: 'southbound', b_to_a: 'northbound' },
    },
  ],
  rules: [{ id: 'count', kind: 'line_count', lineId: 'line', intervalSeconds: 60, crossings: true }],
});

/** A car driving up across the line: frame 6 confirms the crossing (two frames past the line). */
const Y = [0.6, 0.57, 0.54, 0.51, 0.48, 0.45, 0.42, 0.39];
const carAt = (seq: number): Detection[] => [
  { cls: 'car', score: 0.9, box: [...boxOnGround(0.5, Y[seq - 1], 0.1, 0.1)], cocoId: 2 },
];

function setup() {
  const clock = new FakeClock();
  const outbox = new MemoryDelivery();
  const detector = new ScriptedDetector(loadManifest('yolox_nano_416'), 0.45, (f) => {
    clock.advance(200);
    return carAt(f.seq);
  });
  let source: ScriptedSource | null = null;
  const pipeline = new CameraPipeline({
    camera: CONFIG.cameras[0],
    config: CONFIG,
    credentials: undefined,
    detector,
    model: TEST_MODEL,
    clock,
    outbox,
    evidence: new EvidenceService(outbox),
    logger: pino({ level: 'silent' }),
    openCapture: (o) => (source = new ScriptedSource(o.source)),
    analysis: { rules: { newId: sequentialIds() } },
  });
  return { clock, outbox, detector, pipeline, source: () => source! };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await settle();
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('CameraPipeline', () => {
  it('counts a frame in flight when it stops: the rules are flushed after the last frame, not before', async () => {
    const { clock, outbox, detector, pipeline, source } = setup();
    pipeline.start();
    await until('the capture', () => source() !== null);
    detector.hold.add(6);
    source().push(...Y.slice(0, 7).map((_, i) => frame(i + 1, clock.wallMs() + i * 200)));
    // Frame 7 is asked for while the pipeline waits for frame 6's detections: frame 6 is in flight.
    await until('frame 7 asked for', () => detector.asked.includes(7));
    const stopping = pipeline.stop();
    detector.release(6, frame(6, clock.wallMs()));
    await stopping;
    const counts = outbox.messages('count').flatMap((c) => c.message.counts);
    expect(counts).toEqual([{ objectClass: 'car', direction: 'b_to_a', count: 1 }]);
    expect(outbox.messages('crossing')).toHaveLength(1);
  });

  it('clips a camera status reason to the contract', async () => {
    const { outbox, pipeline, source } = setup();
    pipeline.start();
    await until('the capture', () => source() !== null);
    source().status({ state: 'failed', reason: `ffmpeg said: ${'x'.repeat(3000)}`, attempt: 1, nextRetryMs: 1000 });
    const [status] = outbox.messages('camera_status');
    expect(status.message.reason!.length).toBeLessThanOrEqual(500);
    await pipeline.stop();
  });
});
