// onnxruntime-node sessions for the offline tools (profiler, report): loads a model directory's block and exit
// files lazily and caches them, implementing core's SessionProvider.

import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../core/manifest.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';

export interface NodeSessionOptions {
  /** Intra-op threads per session (defaults to onnxruntime's choice). */
  threads?: number;
}

export function nodeSessions(
  dir: string,
  manifest: ModelManifest,
  opts: NodeSessionOptions = {},
): SessionProvider {
  const cache = new Map<string, Promise<ort.InferenceSession>>();
  const load = (file: string) => {
    let s = cache.get(file);
    if (!s) {
      s = ort.InferenceSession.create(join(dir, file), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      });
      cache.set(file, s);
    }
    return s;
  };
  return {
    block: (i) => load(manifest.blocks[i]!.file),
    exit: (i) => load(manifest.exits[i]!.file),
  };
}

export const nodeTensor: TensorFactory = (values, dims) => new ort.Tensor('float32', values, dims);
