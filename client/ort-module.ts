// The slice of an onnxruntime JavaScript module the client uses. onnxruntime-web satisfies it (the default), and so
// does onnxruntime-node, so tests and tools can inject either runtime — or a wrapper around one — without the
// client importing a runtime statically.

import type { Env, InferenceSession, Tensor } from 'onnxruntime-common';

/** What the client needs from `import * as ort from 'onnxruntime-web'` (or any onnxruntime JS module). */
export interface OrtModule {
  InferenceSession: {
    /** Creates a session from the bytes of an ONNX file. */
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  /** The runtime's own tensor class; tensors passed to its sessions must come from it. */
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;
  /** Global runtime settings; the client touches only `env.wasm.numThreads` and `env.wasm.wasmPaths`. */
  env: Pick<Env, 'wasm'>;
}

/** Imports onnxruntime-web lazily, so bundles that inject their own runtime never load it. */
export async function importOnnxruntimeWeb(): Promise<OrtModule> {
  const ort = await import('onnxruntime-web');
  return ort as unknown as OrtModule;
}
