import type { Tensor } from 'onnxruntime-node';

/** A decoded box before class mapping and NMS, in the decoder's box space. */
export interface RawCandidate {
  cocoId: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface DecodeContext {
  /** Score threshold per model class id; +Infinity for ids we do not map (they are never emitted). */
  thresholds: Float32Array;
  /** The model class ids we map, so decoders only look at those columns (6 of 80 for COCO). */
  mappedIds: Int32Array;
  /** Lowest threshold over mapped ids: a cheap early reject. */
  minThreshold: number;
}

/** Builds the context from the score threshold of each mapped class id; every other id is dropped. */
export function createDecodeContext(numClasses: number, thresholdById: ReadonlyMap<number, number>): DecodeContext {
  const thresholds = new Float32Array(numClasses).fill(Number.POSITIVE_INFINITY);
  for (const [id, t] of thresholdById) thresholds[id] = t;
  const mappedIds = Int32Array.from([...thresholdById.keys()].sort((a, b) => a - b));
  return { thresholds, mappedIds, minThreshold: Math.min(...thresholdById.values()) };
}

export interface OutputDecoder {
  /** 'input': boxes in model-input pixels (letterboxed); 'frame': boxes already in source-frame pixels. */
  readonly boxSpace: 'input' | 'frame';
  decode(outputs: Readonly<Record<string, Tensor>>, ctx: DecodeContext): RawCandidate[];
}

/** Name, element type and shape of a model input or output as onnxruntime reports them (symbolic dims as strings). */
export interface TensorInfo {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

export interface ModelIo {
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
}

export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

export function formatTensors(tensors: readonly TensorInfo[]): string {
  return tensors.map((t) => `${t.name} ${t.type} ${formatShape(t.shape)}`).join(', ');
}

/** Typed view of an output; the layout was verified at load, so a wrong type here is a broken invariant. */
export function floatData(outputs: Readonly<Record<string, Tensor>>, name: string): Float32Array {
  const t = outputs[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`output "${name}" missing or not float32`);
  return t.data;
}

/** The image input's spatial size if the model fixes it: first rank-4 input [N,3,H,W]. */
export function imageInputSize(io: ModelIo): { width: number; height: number } | undefined {
  const image = io.inputs.find((i) => i.shape.length === 4);
  if (!image) return undefined;
  const [, , h, w] = image.shape;
  return typeof h === 'number' && typeof w === 'number' ? { width: w, height: h } : undefined;
}
