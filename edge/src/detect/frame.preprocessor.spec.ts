import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { RawFrame } from './detector.types';
import { fillAxis, FramePreprocessor, type PreprocessSpec, WEIGHT_ONE } from './frame.preprocessor';

function solid(width: number, height: number, bgr: [number, number, number]): RawFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(bgr, i);
  return { data, width, height, pixelFormat: 'bgr24' };
}

const raw416: PreprocessSpec = {
  width: 8,
  height: 8,
  colorOrder: 'bgr',
  normalization: { kind: 'raw' },
  resize: { mode: 'letterbox', align: 'top-left', padValue: 114 },
  filter: 'bilinear',
};

/** Value at (channel, y, x) of an NCHW tensor of size w*h. */
function at(t: Float32Array, w: number, h: number, c: number, y: number, x: number): number {
  return t[c * w * h + y * w + x];
}

describe('FramePreprocessor', () => {
  it('letterboxes top-left: frame in the upper rows, pad 114 below, BGR kept, raw 0-255', () => {
    const p = new FramePreprocessor(raw416);
    const g = p.run(solid(16, 8, [10, 20, 30]));
    expect(g).toMatchObject({ resizedWidth: 8, resizedHeight: 4, padX: 0, padY: 0 });
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const expected = y < 4 ? [10, 20, 30] : [114, 114, 114];
        expect([0, 1, 2].map((c) => at(p.tensor, 8, 8, c, y, x))).toEqual(expected);
      }
    }
  });

  it('swaps channels for an RGB model fed bgr24 and scales /255', () => {
    const p = new FramePreprocessor({ ...raw416, colorOrder: 'rgb', normalization: { kind: 'unit' } });
    p.run(solid(8, 8, [10, 20, 30]));
    expect(at(p.tensor, 8, 8, 0, 3, 3)).toBeCloseTo(30 / 255, 6);
    expect(at(p.tensor, 8, 8, 1, 3, 3)).toBeCloseTo(20 / 255, 6);
    expect(at(p.tensor, 8, 8, 2, 3, 3)).toBeCloseTo(10 / 255, 6);
  });

  it('keeps the order when an RGB model is fed rgb24', () => {
    const p = new FramePreprocessor({ ...raw416, colorOrder: 'rgb' });
    p.run({ ...solid(8, 8, [10, 20, 30]), pixelFormat: 'rgb24' });
    expect([0, 1, 2].map((c) => at(p.tensor, 8, 8, c, 0, 0))).toEqual([10, 20, 30]);
  });

  it('applies mean/std per model channel, padding included (centred pad 0)', () => {
    const mean: [number, number, number] = [103.53, 116.28, 123.675];
    const std: [number, number, number] = [57.375, 57.12, 58.395];
    const p = new FramePreprocessor({
      ...raw416,
      normalization: { kind: 'mean-std', mean, std },
      resize: { mode: 'letterbox', align: 'center', padValue: 0 },
    });
    const g = p.run(solid(16, 8, [200, 100, 50]));
    expect(g.padY).toBe(2);
    [200, 100, 50].forEach((v, c) => {
      expect(at(p.tensor, 8, 8, c, 4, 4)).toBeCloseTo((v - mean[c]) / std[c], 5);
      expect(at(p.tensor, 8, 8, c, 0, 4)).toBeCloseTo((0 - mean[c]) / std[c], 5);
      expect(at(p.tensor, 8, 8, c, 7, 4)).toBeCloseTo((0 - mean[c]) / std[c], 5);
    });
  });

  it('reproduces the frame exactly when no resize is needed', () => {
    const frame = solid(8, 8, [0, 0, 0]);
    for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 37) % 256;
    for (const filter of ['bilinear', 'nearest'] as const) {
      const p = new FramePreprocessor({ ...raw416, resize: { mode: 'stretch' }, filter });
      p.run(frame);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          for (let c = 0; c < 3; c++) expect(at(p.tensor, 8, 8, c, y, x)).toBe(frame.data[(y * 8 + x) * 3 + c]);
        }
      }
    }
  });

  it('converts a frame already at the letterboxed size straight into place, padding and swap included', () => {
    const frame = solid(8, 4, [0, 0, 0]);
    for (let i = 0; i < frame.data.length; i++) frame.data[i] = i % 251;
    const p = new FramePreprocessor({
      ...raw416,
      colorOrder: 'rgb',
      resize: { mode: 'letterbox', align: 'center', padValue: 7 },
    });
    expect(p.run(frame)).toMatchObject({ resizedWidth: 8, resizedHeight: 4, padX: 0, padY: 2 });
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const src = ((y - 2) * 8 + x) * 3;
        const expected = y < 2 || y >= 6 ? [7, 7, 7] : [frame.data[src + 2], frame.data[src + 1], frame.data[src]];
        expect([0, 1, 2].map((c) => at(p.tensor, 8, 8, c, y, x))).toEqual(expected);
      }
    }
  });

  it('interpolates bilinearly between pixel centres when upscaling', () => {
    // 2x2 frame black|white stretched to 8 wide: OpenCV-style half-pixel centres give 0,0,32,96,159,223,255,255.
    const bw = [0, 0, 0, 255, 255, 255];
    const frame: RawFrame = { data: Uint8Array.from([...bw, ...bw]), width: 2, height: 2, pixelFormat: 'bgr24' };
    const p = new FramePreprocessor({ ...raw416, resize: { mode: 'stretch' } });
    p.run(frame);
    const row = Array.from({ length: 8 }, (_, x) => at(p.tensor, 8, 8, 0, 0, x));
    const expected = [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1].map((f) => f * 255);
    row.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 0));
  });

  it('handles a one-pixel-high frame (no row below to blend with)', () => {
    const frame: RawFrame = {
      data: Uint8Array.from([10, 20, 30, 40, 50, 60]),
      width: 2,
      height: 1,
      pixelFormat: 'bgr24',
    };
    const p = new FramePreprocessor(raw416);
    expect(p.run(frame)).toMatchObject({ resizedWidth: 8, resizedHeight: 4 });
    expect([0, 1, 2].map((c) => at(p.tensor, 8, 8, c, 0, 0))).toEqual([10, 20, 30]);
    expect([0, 1, 2].map((c) => at(p.tensor, 8, 8, c, 3, 7))).toEqual([40, 50, 60]);
    expect(at(p.tensor, 8, 8, 0, 4, 0)).toBe(114);
  });

  it('reuses its buffers: the same tensor, the padding kept, new content written', () => {
    const p = new FramePreprocessor(raw416);
    const tensor = p.tensor;
    p.run(solid(16, 8, [1, 2, 3]));
    p.run(solid(16, 8, [50, 60, 70]));
    expect(p.tensor).toBe(tensor);
    expect(at(p.tensor, 8, 8, 0, 0, 0)).toBe(50);
    expect(at(p.tensor, 8, 8, 0, 7, 0)).toBe(114);
    // A resolution change repaints the padding for the new geometry.
    p.run(solid(8, 16, [9, 9, 9]));
    expect(at(p.tensor, 8, 8, 0, 0, 0)).toBe(9);
    expect(at(p.tensor, 8, 8, 0, 0, 7)).toBe(114);
    expect(at(p.tensor, 8, 8, 0, 7, 0)).toBe(9);
  });

  it.each([
    ['too short', { data: new Uint8Array(10), width: 8, height: 8 }, /needs 192 bytes .* got 10/],
    ['too long', { data: new Uint8Array(193), width: 8, height: 8 }, /needs 192 bytes .* got 193/],
    ['zero width', { data: new Uint8Array(0), width: 0, height: 8 }, /positive integers/],
    ['fractional', { data: new Uint8Array(36), width: 3.5, height: 2 }, /positive integers/],
  ])('rejects a %s frame with INVALID_FRAME', (_name, frame, message) => {
    const p = new FramePreprocessor(raw416);
    let error: unknown;
    try {
      p.run({ ...frame, pixelFormat: 'bgr24' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DetectorError);
    expect((error as DetectorError).code).toBe(DetectorErrorCode.INVALID_FRAME);
    expect((error as DetectorError).message).toMatch(message);
  });
});

describe('fillAxis', () => {
  it("gives the lower sample and the upper one's weight, moved left at the far border", () => {
    const i0 = new Int32Array(4);
    const w = new Int32Array(4);
    // 8 -> 4: centres at 0.5, 2.5, 4.5, 6.5.
    fillAxis(8, 4, 3, i0, w, 'bilinear');
    expect(Array.from(i0)).toEqual([0, 6, 12, 18]);
    expect(Array.from(w)).toEqual([0.5, 0.5, 0.5, 0.5].map((f) => f * WEIGHT_ONE));
    // 2 -> 4: centres at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past the last sample: pair 0-1, all on 1).
    fillAxis(2, 4, 1, i0, w, 'bilinear');
    expect(Array.from(i0)).toEqual([0, 0, 0, 0]);
    expect(Array.from(w)).toEqual([0, 0.25, 0.75, 1].map((f) => f * WEIGHT_ONE));
  });

  it('picks the covering source pixel for nearest', () => {
    const i0 = new Int32Array(3);
    const w = new Int32Array(3);
    fillAxis(9, 3, 1, i0, w, 'nearest');
    expect(Array.from(i0)).toEqual([1, 4, 7]);
    expect(Array.from(w)).toEqual([0, 0, 0]);
  });
});
