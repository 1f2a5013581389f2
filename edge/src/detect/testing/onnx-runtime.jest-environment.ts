import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import NodeEnvironment from 'jest-environment-node';

/** Typed-array constructors the onnxruntime binding can hand back. */
const SHARED_GLOBALS = [
  'ArrayBuffer',
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'BigInt64Array',
  'Uint8Array',
  'Uint16Array',
  'Uint32Array',
  'BigUint64Array',
] as const;

/**
 * Jest runs each test file in its own V8 context, with its own Float32Array. onnxruntime-node's native binding
 * creates output tensors' arrays in Node's main context, and onnxruntime-common (loaded in the test context) then
 * rejects them ("A float32 tensor's data must be type of function Float32Array()"). Sharing the main context's
 * typed-array constructors makes both sides agree, as they do in a plain Node process.
 * Use with a `@jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts` docblock.
 */
export default class OnnxRuntimeEnvironment extends NodeEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const sandbox = this.global as unknown as Record<string, unknown>;
    const host = globalThis as unknown as Record<string, unknown>;
    for (const name of SHARED_GLOBALS) sandbox[name] = host[name];
  }
}
