/**
 * A minimal ONNX protobuf writer for tests: enough of ModelProto to describe a graph of attribute-free nodes
 * (Identity, Add, ...) with typed, fixed-shape inputs and outputs. onnxruntime-node can run models but not build
 * them, and a hand-made model is the honest way to test "outputs that match no family".
 * Field numbers are from onnx/onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto, TypeProto).
 */

export type OnnxElemType = 'float32' | 'int64';

const ELEM_TYPE: Record<OnnxElemType, number> = { float32: 1, int64: 7 };

export interface OnnxValueSpec {
  name: string;
  type: OnnxElemType;
  shape: readonly number[];
}

export interface OnnxNodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
}

export interface OnnxGraphSpec {
  nodes: readonly OnnxNodeSpec[];
  inputs: readonly OnnxValueSpec[];
  outputs: readonly OnnxValueSpec[];
  opset?: number;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

function key(field: number, wireType: 0 | 2): number[] {
  return varint((field << 3) | wireType);
}

function intField(field: number, value: number): number[] {
  return [...key(field, 0), ...varint(value)];
}

function bytesField(field: number, payload: readonly number[]): number[] {
  return [...key(field, 2), ...varint(payload.length), ...payload];
}

function stringField(field: number, value: string): number[] {
  return bytesField(field, [...Buffer.from(value, 'utf8')]);
}

function valueInfo(v: OnnxValueSpec): number[] {
  const dims = v.shape.flatMap((d) => bytesField(1, intField(1, d)));
  const tensorType = [...intField(1, ELEM_TYPE[v.type]), ...bytesField(2, dims)];
  return [...stringField(1, v.name), ...bytesField(2, bytesField(1, tensorType))];
}

function node(n: OnnxNodeSpec, index: number): number[] {
  return [
    ...n.inputs.flatMap((i) => stringField(1, i)),
    ...n.outputs.flatMap((o) => stringField(2, o)),
    ...stringField(3, `${n.opType.toLowerCase()}_${index}`),
    ...stringField(4, n.opType),
  ];
}

export function buildOnnxModel(spec: OnnxGraphSpec): Uint8Array {
  const graph = [
    ...spec.nodes.flatMap((n, i) => bytesField(1, node(n, i))),
    ...stringField(2, 'vigil_test_graph'),
    ...spec.inputs.flatMap((v) => bytesField(11, valueInfo(v))),
    ...spec.outputs.flatMap((v) => bytesField(12, valueInfo(v))),
  ];
  const model = [
    ...intField(1, 8), // ir_version 8 (onnx 1.10+)
    ...stringField(2, 'vigil-tests'),
    ...bytesField(7, graph),
    ...bytesField(8, [...stringField(1, ''), ...intField(2, spec.opset ?? 13)]),
  ];
  return Uint8Array.from(model);
}
