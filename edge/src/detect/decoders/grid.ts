/** Anchor-point count of a multi-stride head: sum over strides of floor(H/s) * floor(W/s). */
export function gridCount(width: number, height: number, strides: readonly number[]): number {
  return strides.reduce((n, s) => n + Math.floor(height / s) * Math.floor(width / s), 0);
}

/** Strides of the standard heads (P3-P5) and of the P6 variants, for recognising a layout by its anchor count. */
export const STANDARD_STRIDE_SETS: readonly (readonly number[])[] = [
  [8, 16, 32],
  [8, 16, 32, 64],
];

export interface Grid {
  /** Grid column, row and stride per anchor, row-major within a stride, strides in order. */
  gx: Float32Array;
  gy: Float32Array;
  stride: Float32Array;
}

export function buildGrid(width: number, height: number, strides: readonly number[]): Grid {
  const n = gridCount(width, height, strides);
  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const stride = new Float32Array(n);
  let i = 0;
  for (const s of strides) {
    const hs = Math.floor(height / s);
    const ws = Math.floor(width / s);
    for (let y = 0; y < hs; y++) {
      for (let x = 0; x < ws; x++, i++) {
        gx[i] = x;
        gy[i] = y;
        stride[i] = s;
      }
    }
  }
  return { gx, gy, stride };
}

/** Does a dim (numeric or symbolic) agree with an expected count? Symbolic dims are checked after the warm-up run. */
export function dimIs(dim: number | string | undefined, expected: number): boolean {
  return typeof dim === 'string' || dim === expected;
}
