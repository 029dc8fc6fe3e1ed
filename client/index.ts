// Public API of the SPINN client library (browser and Node): the client, its options and results, the model file
// caches and sources, and the types those mention. Nothing else: internals (loader, sessions, wire helpers) stay
// importable by path for the repository's own tools, but are not the package's API. Node users who load
// onnxruntime-web from node_modules can use `client/node/ort-node.ts`, kept apart so this entry point stays free
// of Node APIs.

export { SpinnClient } from './spinn-client.js';
export {
  DEFAULT_CANCEL_TIMEOUT_MS,
  DEFAULT_OFFLOAD_TIMEOUT_MS,
  DEFAULT_SESSION_OPTIONS,
  DEFAULT_THRESHOLD,
  type ClassifyOptions,
  type ExecutionPlan,
  type SpinnClientOptions,
} from './client-options.js';
export type { ClassifyResult, ClassifyTimings, DecidedBy } from './classify-result.js';
export type { ClassifyInput } from './model-input.js';
export { ModelLoadError } from './errors.js';
export { MemoryModelCache, type ModelFileCache } from './model-cache.js';
export { CacheStorageModelCache, type CacheStorageModelCacheOptions } from './cache-storage-cache.js';
export { edgeModelSource, staticModelSource, type ModelSource } from './model-source.js';
export { importOnnxruntimeWeb, type OrtModule } from './ort-module.js';
export type { LocalContinuation } from './race.js';
export type { CancelOutcome, OffloadFailure } from './offload.js';
export type { Deflate } from '../core/codec-deflate.js';
