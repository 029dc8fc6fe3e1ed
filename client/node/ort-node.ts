// Node-only helper: loads onnxruntime-web for use in Node (tests, CLIs, benchmarks) with its wasm files taken from
// node_modules, and sets the thread count. Kept out of client/index.ts, which must stay browser-safe.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OrtModule } from '../ort-module.js';

/** File URL (with trailing slash) of onnxruntime-web's `dist/` folder, where its .wasm and .mjs files live. */
export function ortWebDistUrl(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('onnxruntime-web'); // dist/ort.node.min.js under the 'node' + 'require' conditions
  return pathToFileURL(join(dirname(main), '/')).href;
}

export interface NodeOrtOptions {
  /** `env.wasm.numThreads` (default 1: one wasm thread, no worker threads). */
  numThreads?: number;
  /** `env.wasm.wasmPaths` (default: ortWebDistUrl()). */
  wasmPaths?: string;
}

/** Imports onnxruntime-web (its Node build) and points it at the wasm files in node_modules. */
export async function loadOrtWebForNode(options: NodeOrtOptions = {}): Promise<OrtModule> {
  const ort = (await import('onnxruntime-web')) as unknown as OrtModule;
  ort.env.wasm.numThreads = options.numThreads ?? 1;
  ort.env.wasm.wasmPaths = options.wasmPaths ?? ortWebDistUrl();
  return ort;
}
