import fc from 'fast-check';
import { FrameSplitter } from './frame-splitter';

/** `count` frames of `size` bytes, each filled with a distinct pattern so swaps and shifts are visible. */
function makeStream(count: number, size: number): { frames: Buffer[]; stream: Buffer } {
  const frames = Array.from({ length: count }, (_, f) => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (f * 31 + i * 7) & 0xff;
    return b;
  });
  return { frames, stream: Buffer.concat(frames) };
}

function cut(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    if (p > prev) chunks.push(Buffer.from(stream.subarray(prev, p)));
    prev = p;
  }
  return chunks;
}

describe('FrameSplitter', () => {
  it('reassembles frames that span chunk boundaries, for any chunking', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (count, size, cuts) => {
          const { frames, stream } = makeStream(count, size);
          const out: Buffer[] = [];
          const splitter = new FrameSplitter(size, (f) => out.push(Buffer.from(f)));
          for (const chunk of cut(stream, cuts)) splitter.push(chunk);
          expect(out).toEqual(frames);
          expect(splitter.pendingBytes).toBe(0);
        },
      ),
    );
  });

  it('holds back an incomplete frame until its last byte arrives', () => {
    const { frames, stream } = makeStream(2, 10);
    const out: Buffer[] = [];
    const splitter = new FrameSplitter(10, (f) => out.push(f));
    splitter.push(stream.subarray(0, 4));
    splitter.push(stream.subarray(4, 9));
    expect(out).toHaveLength(0);
    expect(splitter.pendingBytes).toBe(9);
    splitter.push(stream.subarray(9, 13));
    expect(out).toEqual([frames[0]]);
    expect(splitter.pendingBytes).toBe(3);
  });

  it('hands out frames that lie inside one chunk as views, without copying', () => {
    const { stream } = makeStream(3, 8);
    const chunk = Buffer.concat([stream, Buffer.alloc(3)]);
    const out: Buffer[] = [];
    new FrameSplitter(8, (f) => out.push(f)).push(chunk);
    expect(out).toHaveLength(3);
    for (const frame of out) expect(frame.buffer).toBe(chunk.buffer);
  });

  it('gives every assembled frame its own memory, so a held frame is never overwritten', () => {
    const { frames, stream } = makeStream(3, 8);
    const out: Buffer[] = [];
    const splitter = new FrameSplitter(8, (f) => out.push(f));
    // Chunks of 5 bytes: every frame straddles a boundary and must be assembled.
    for (let i = 0; i < stream.length; i += 5) splitter.push(Buffer.from(stream.subarray(i, i + 5)));
    expect(out).toEqual(frames);
    out[0].fill(0xff);
    out[1].fill(0xee);
    expect(out[2]).toEqual(frames[2]);
    expect(out[1]).toEqual(Buffer.alloc(8, 0xee));
  });

  it('forgets a partial frame on reset (a restarted decoder starts a new byte stream)', () => {
    const { frames, stream } = makeStream(1, 6);
    const out: Buffer[] = [];
    const splitter = new FrameSplitter(6, (f) => out.push(f));
    splitter.push(Buffer.from([9, 9, 9]));
    splitter.reset();
    expect(splitter.pendingBytes).toBe(0);
    splitter.push(stream);
    expect(out).toEqual(frames);
  });

  it('rejects a non-positive frame size', () => {
    expect(() => new FrameSplitter(0, () => undefined)).toThrow('positive integer');
  });
});
