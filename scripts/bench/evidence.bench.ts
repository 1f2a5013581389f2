/**
 * Evidence rendering cost on a real frame (opencv_vtest.avi at 10 s, 768x576, three persons blurred, one privacy
 * zone, the van boxed), and on a 1920x1080 frame scaled from it. For `npm run bench:edge`; also runnable alone:
 * `tsx scripts/bench/evidence.bench.ts`.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFrames, resolveVideosDir } from '../../edge/src/detect/testing/read-frame';
import type { RawFrame } from '../../edge/src/detect/detector.types';
import { renderEvidence, type EvidenceRenderRequest } from '../../edge/src/evidence/evidence.renderer';

export interface EvidenceBenchResult {
  /** Median wall time of one render (mask + encode + size check), per frame size. */
  renderMsMedian: Record<string, number>;
  bytes: Record<string, number>;
}

const SCENE: Omit<EvidenceRenderRequest, 'frame'> = {
  box: [0.846, 0.07, 0.945, 0.18],
  persons: [
    [0.487, 0.307, 0.534, 0.443],
    [0.454, 0.345, 0.499, 0.477],
    [0.77, 0.264, 0.805, 0.403],
  ],
  privacyZones: [
    {
      id: 'windows',
      polygon: [
        [0.42, 0.05],
        [0.75, 0.05],
        [0.75, 0.16],
        [0.5, 0.2],
      ],
    },
  ],
};

async function timeRenders(frame: RawFrame, runs: number): Promise<{ ms: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await renderEvidence({ frame, ...SCENE });
    times.push(performance.now() - t0);
    bytes = r.jpeg.length;
  }
  times.sort((a, b) => a - b);
  return { ms: Math.round(times[Math.floor(times.length / 2)] * 10) / 10, bytes };
}

export async function benchEvidence(runs = 15): Promise<EvidenceBenchResult> {
  const clip = path.join(resolveVideosDir(), 'opencv_vtest.avi');
  const [small] = await readFrames(clip, 10, 1);
  const [hd] = await readFrames(clip, 10, 1, { width: 1920, height: 1080 });
  await timeRenders(small, 2); // warm-up
  const a = await timeRenders(small, runs);
  const b = await timeRenders(hd, runs);
  return {
    renderMsMedian: { '768x576': a.ms, '1920x1080': b.ms },
    bytes: { '768x576': a.bytes, '1920x1080': b.bytes },
  };
}

if (require.main === module) {
  void benchEvidence().then((r) => console.log(JSON.stringify(r, null, 2)));
}
