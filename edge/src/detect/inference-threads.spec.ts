import { availableParallelism } from 'node:os';

import { defaultIntraOpThreads } from './inference-threads';

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
