import { availableParallelism } from 'node:os';

import { defaultIntraOpThreads, detectorSessionsFor } from './inference-threads';

describe('defaultIntraOpThreads', () => {
  it.each([
    [1, 1],
    [2, 1],
    [4, 3],
    [16, 15],
  ])('leaves one of %d cores to the decoders: %d inference threads', (cores, threads) => {
    expect(defaultIntraOpThreads(cores)).toBe(threads);
  });

  it('uses the cores of this machine when none are given', () => {
    expect(defaultIntraOpThreads()).toBe(Math.max(1, availableParallelism() - 1));
  });
});

describe('detectorSessionsFor', () => {
  const cameras = (n: number, fps = 10) => Array.from({ length: n }, () => fps);

  it.each([
    // cameras, inference ms, sessions on 2 cores with one thread each
    [1, 17, 1],
    [4, 17, 1], // 0.68 of a thread
    [5, 17, 2], // 0.85: above the 0.8 busy share
    [8, 17, 2], // 1.36
    [16, 17, 2], // capped by the cores
    [8, 5, 1],
  ])('%d cameras at 10 frames/s, %d ms per inference: %d session(s)', (n, ms, sessions) => {
    expect(detectorSessionsFor(cameras(n), ms, 1, 2)).toBe(sessions);
  });

  it('keeps one session when nothing is asked of it', () => {
    expect(detectorSessionsFor([], 17, 1, 2)).toBe(1);
    expect(detectorSessionsFor(cameras(4), 0, 1, 2)).toBe(1);
  });

  it('fits the sessions to the cores at the configured threads per session', () => {
    expect(detectorSessionsFor(cameras(16), 17, 1, 8)).toBe(4); // 2.72 / 0.8 = 3.4
    expect(detectorSessionsFor(cameras(16), 17, 3, 8)).toBe(2);
    expect(detectorSessionsFor(cameras(16), 17, 0, 8)).toBe(1); // 0: every core for one session
  });
});
