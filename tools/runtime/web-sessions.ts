// onnxruntime-web (wasm) sessions for the offline tools, run inside Node: the profiler measures the device-side
// block latencies with the same runtime the client library uses in browsers.

import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ModelManifest } from '../../core/manifest.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';

export function webSessions(dir: string, manifest: ModelManifest, threads = 1): SessionProvider {
  ort.env.wasm.numThreads = threads;
  const cache = new Map<string, Promise<ort.InferenceSession>>();
  const load = (file: string) => {
    let s = cache.get(file);
    if (!s) {
      s = ort.InferenceSession.create(join(dir, file), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      cache.set(file, s);
    }
    return s;
  };
  return { block: (i) => load(manifest.blocks[i]!.file), exit: (i) => load(manifest.exits[i]!.file) };
}

export const webTensor: TensorFactory = (values, dims) => new ort.Tensor('float32', values, dims);
