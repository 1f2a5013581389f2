import type { BoxXyxy } from './detector.types';
import type { ResizeSpec } from './model-manifest.schema';

/** Where a source frame lands inside the model input; kept per frame size to map boxes back. */
export interface InputGeometry {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  /** Size of the resized image inside the input (equal to dst for stretch). */
  resizedWidth: number;
  resizedHeight: number;
  /** Offset of the resized image inside the input, in input pixels. */
  padX: number;
  padY: number;
  /** Input pixels per source pixel, per axis (differ only for stretch, or by rounding). */
  scaleX: number;
  scaleY: number;
}

export function computeGeometry(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  resize: ResizeSpec,
): InputGeometry {
  if (resize.mode === 'stretch') {
    return {
      srcWidth,
      srcHeight,
      dstWidth,
      dstHeight,
      resizedWidth: dstWidth,
      resizedHeight: dstHeight,
      padX: 0,
      padY: 0,
      scaleX: dstWidth / srcWidth,
      scaleY: dstHeight / srcHeight,
    };
  }
  const r = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const resizedWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * r)));
  const resizedHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * r)));
  // Centred: the odd pixel goes to the right/bottom, as NanoDet's and Ultralytics' reference code do.
  const padX = resize.align === 'center' ? Math.floor((dstWidth - resizedWidth) / 2) : 0;
  const padY = resize.align === 'center' ? Math.floor((dstHeight - resizedHeight) / 2) : 0;
  return {
    srcWidth,
    srcHeight,
    dstWidth,
    dstHeight,
    resizedWidth,
    resizedHeight,
    padX,
    padY,
    scaleX: resizedWidth / srcWidth,
    scaleY: resizedHeight / srcHeight,
  };
}

function unit(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** A box in model-input pixels -> normalised 0..1 of the source frame, clamped into the frame. */
export function inputBoxToFrame(x1: number, y1: number, x2: number, y2: number, g: InputGeometry): BoxXyxy {
  const fx = 1 / (g.scaleX * g.srcWidth);
  const fy = 1 / (g.scaleY * g.srcHeight);
  return [unit((x1 - g.padX) * fx), unit((y1 - g.padY) * fy), unit((x2 - g.padX) * fx), unit((y2 - g.padY) * fy)];
}

/** A box in source-frame pixels -> normalised 0..1, clamped into the frame. */
export function frameBoxToUnit(x1: number, y1: number, x2: number, y2: number, g: InputGeometry): BoxXyxy {
  return [unit(x1 / g.srcWidth), unit(y1 / g.srcHeight), unit(x2 / g.srcWidth), unit(y2 / g.srcHeight)];
}
