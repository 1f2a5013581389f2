import type { Tensor } from 'onnxruntime-node';

import { describeLayouts, recognizeFamilies } from './decoders/decoder.registry';
import { formatShape, formatTensors, type ModelIo, type TensorInfo } from './decoders/decoder.types';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { ModelManifest } from './model-manifest.schema';

interface Expected {
  kind: 'input' | 'output';
  name: string;
  type: string;
  /** undefined entries: any size (e.g. the batch dim of a size input). */
  shape: readonly (number | undefined)[];
}

function expectedTensors(m: ModelManifest): Expected[] {
  const list: Expected[] = [{ kind: 'input', name: m.input.name, type: 'float32', shape: m.input.shape }];
  if (m.family === 'detr') list.push({ kind: 'input', name: m.decode.sizeInput, type: 'int64', shape: [undefined, 2] });
  for (const o of m.outputs) {
    const type = m.family === 'detr' && o.name === m.decode.labels ? 'int64' : 'float32';
    list.push({ kind: 'output', name: o.name, type, shape: o.shape });
  }
  return list;
}

function shapesAgree(expected: readonly (number | undefined)[], actual: readonly (number | string)[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((e, i) => e === undefined || typeof actual[i] === 'string' || actual[i] === e);
}

function fmtExpected(e: Expected): string {
  return `${e.name} ${e.type} ${formatShape(e.shape.map((d) => d ?? '*'))}`;
}

/**
 * Checks a loaded model's declared inputs/outputs against its manifest before anything runs: first that the outputs
 * fit some family at all, then that the family is the manifest's, then every name, type and fixed dim. Each error
 * names the file and shows expected vs actual.
 */
export function checkModelIo(manifest: ModelManifest, io: ModelIo, file: string): void {
  const families = recognizeFamilies(io);
  const actual = `model has inputs ${formatTensors(io.inputs)}; outputs ${formatTensors(io.outputs)}`;
  if (families.length === 0) {
    throw new DetectorError(
      DetectorErrorCode.UNKNOWN_OUTPUT_LAYOUT,
      `${file}: outputs match no supported model family (${describeLayouts()}); ${actual}`,
    );
  }
  if (!families.includes(manifest.family)) {
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_MISMATCH,
      `${file}: manifest "${manifest.id}" declares family ${manifest.family} ` +
        `(${formatTensors(expectedTensors(manifest).map(toInfo))}) but the model's layout is ${families.join('/')}; ` +
        actual,
    );
  }
  const problems: string[] = [];
  for (const e of expectedTensors(manifest)) {
    const pool: readonly TensorInfo[] = e.kind === 'input' ? io.inputs : io.outputs;
    const found = pool.find((t) => t.name === e.name);
    if (!found) {
      problems.push(`${e.kind} ${fmtExpected(e)} not in the model`);
    } else if (found.type !== e.type || !shapesAgree(e.shape, found.shape)) {
      problems.push(`${e.kind} expected ${fmtExpected(e)}, model has ${found.type} ${formatShape(found.shape)}`);
    }
  }
  const declared = new Set(expectedTensors(manifest).map((e) => e.name));
  for (const t of [...io.inputs, ...io.outputs]) {
    if (!declared.has(t.name)) problems.push(`model tensor ${t.name} ${formatShape(t.shape)} not in the manifest`);
  }
  if (problems.length > 0) {
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_MISMATCH,
      `${file} vs manifest "${manifest.id}": ${problems.join('; ')}`,
    );
  }
}

function toInfo(e: Expected): TensorInfo {
  return { name: e.name, type: e.type, shape: e.shape.map((d) => d ?? '*') };
}

/** After the warm-up run: symbolic dims are now concrete and must equal the manifest's. */
export function checkRunOutputs(
  manifest: ModelManifest,
  outputs: Readonly<Record<string, Tensor>>,
  file: string,
): void {
  const problems: string[] = [];
  for (const o of manifest.outputs) {
    const t = outputs[o.name];
    const dims = t ? t.dims : [];
    if (!t || !shapesAgree(o.shape, dims.map(Number))) {
      problems.push(`output ${o.name} expected ${formatShape(o.shape)}, got ${t ? formatShape(dims) : 'nothing'}`);
    }
  }
  if (problems.length > 0) {
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_MISMATCH,
      `${file} vs manifest "${manifest.id}" at warm-up: ${problems.join('; ')}`,
    );
  }
}
