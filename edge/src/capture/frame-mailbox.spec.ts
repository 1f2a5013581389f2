import { LatestMailbox } from './frame-mailbox';

describe('LatestMailbox', () => {
  it('keeps only the newest item and counts the overwritten ones as dropped', async () => {
    const box = new LatestMailbox<number>();
    for (let i = 1; i <= 5; i++) box.put(i);
    expect(box.dropped).toBe(4);
    await expect(box.take()).resolves.toBe(5);
    expect(box.delivered).toBe(1);
  });

  it('hands an item straight to a waiting taker without counting a drop', async () => {
    const box = new LatestMailbox<string>();
    const pending = box.take();
    box.put('a');
    await expect(pending).resolves.toBe('a');
    box.put('b');
    await expect(box.take()).resolves.toBe('b');
    expect(box.dropped).toBe(0);
    expect(box.delivered).toBe(2);
  });

  it('counts drops only for items nobody took, across a slow consumer loop', async () => {
    const box = new LatestMailbox<number>();
    const seen: number[] = [];
    // Producer puts 3 items per consumer turn: the consumer sees every third, the other two are dropped.
    for (let turn = 0; turn < 4; turn++) {
      box.put(turn * 3 + 1);
      box.put(turn * 3 + 2);
      box.put(turn * 3 + 3);
      seen.push((await box.take()) as number);
    }
    expect(seen).toEqual([3, 6, 9, 12]);
    expect(box.dropped).toBe(8);
    expect(box.delivered + box.dropped).toBe(12);
  });

  it('end() delivers the item still in the slot, then null', async () => {
    const box = new LatestMailbox<number>();
    box.put(7);
    box.end();
    box.put(8);
    await expect(box.take()).resolves.toBe(7);
    await expect(box.take()).resolves.toBeNull();
    expect(box.dropped).toBe(0);
  });

  it('close() discards the slot and releases every waiting taker with null', async () => {
    const box = new LatestMailbox<number>();
    const waiting = [box.take(), box.take()];
    box.close();
    await expect(Promise.all(waiting)).resolves.toEqual([null, null]);
    box.put(1);
    await expect(box.take()).resolves.toBeNull();
    expect(box.isClosed).toBe(true);
  });
});
