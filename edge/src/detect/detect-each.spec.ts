import { detectEach } from './detect-each';
import type { Detection, RawFrame } from './detector.types';

const frame = (n: number): RawFrame => ({ data: new Uint8Array([n]), width: 1, height: 1, pixelFormat: 'bgr24' });

async function* frames(n: number, log: string[]): AsyncGenerator<RawFrame> {
  for (let i = 1; i <= n; i++) {
    await Promise.resolve(); // a capture hands frames out asynchronously
    log.push(`take ${i}`);
    yield frame(i);
  }
}

/** A detector that answers when told to, so the test sees what overlaps what. */
function manualDetector(log: string[]) {
  const waiting: (() => void)[] = [];
  return {
    detect(f: RawFrame): Promise<Detection[]> {
      log.push(`detect ${f.data[0]}`);
      return new Promise((resolve) =>
        waiting.push(() => resolve([{ cls: 'car', score: f.data[0] / 10, box: [0, 0, 1, 1], cocoId: 2 }])),
      );
    },
    answerNext: () => waiting.shift()?.(),
    get waiting() {
      return waiting.length;
    },
  };
}

describe('detectEach', () => {
  it('hands frame N+1 to the detector before handling frame N, and handles every frame in order', async () => {
    const log: string[] = [];
    const det = manualDetector(log);
    const handled: number[] = [];
    const done = detectEach(frames(3, log), det, (f, d) => {
      log.push(`handle ${f.data[0]}`);
      handled.push(d[0].score * 10);
    });
    const tick = () => new Promise((r) => setImmediate(r));
    while (det.waiting < 2) await tick();
    expect(log).toEqual(['take 1', 'detect 1', 'take 2', 'detect 2']);
    for (let i = 0; i < 3; i++) {
      await tick();
      det.answerNext();
      await tick();
    }
    await done;
    expect(handled).toEqual([1, 2, 3]);
    expect(log.indexOf('detect 2')).toBeLessThan(log.indexOf('handle 1'));
    expect(log.indexOf('detect 3')).toBeLessThan(log.indexOf('handle 2'));
  });

  it('ends with the error of a frame that fails, after handling the frames before it', async () => {
    const handled: number[] = [];
    const detector = {
      detect: (f: RawFrame) =>
        f.data[0] === 2 ? Promise.reject(new Error('inference failed')) : Promise.resolve([] as Detection[]),
    };
    await expect(detectEach(frames(4, []), detector, (f) => void handled.push(f.data[0]))).rejects.toThrow(
      'inference failed',
    );
    expect(handled).toEqual([1]);
  });

  it('passes over a failed frame that skip() accepts and handles the rest; other errors still end the loop', async () => {
    const handled: number[] = [];
    const skipped: string[] = [];
    const detector = {
      detect: (f: RawFrame) =>
        f.data[0] === 2 || f.data[0] === 4
          ? Promise.reject(new Error(f.data[0] === 2 ? 'worker lost' : 'bad model'))
          : Promise.resolve([] as Detection[]),
    };
    const run = detectEach(
      frames(5, []),
      detector,
      (f) => void handled.push(f.data[0]),
      () => false,
      (err, f) => {
        const transient = (err as Error).message === 'worker lost';
        if (transient) skipped.push(`${f.data[0]}: ${(err as Error).message}`);
        return transient;
      },
    );
    await expect(run).rejects.toThrow('bad model');
    expect(handled).toEqual([1, 3]);
    expect(skipped).toEqual(['2: worker lost']);
  });

  it('stops taking frames once asked to', async () => {
    const handled: number[] = [];
    let stop = false;
    const detector = { detect: () => Promise.resolve([] as Detection[]) };
    await detectEach(
      frames(10, []),
      detector,
      (f) => {
        handled.push(f.data[0]);
        if (f.data[0] === 3) stop = true;
      },
      () => stop,
    );
    expect(handled).toEqual([1, 2, 3]);
  });
});
