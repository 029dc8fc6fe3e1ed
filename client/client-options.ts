// Options of SpinnClient and of one classify call, with their defaults. Every option is optional except where
// the client cannot guess: the edge's URL and the model's id.

import type { InferenceSession } from 'onnxruntime-common';
import { deflate, type Deflate } from '../core/codec-deflate.js';
import type { CodecSpec } from '../core/codec-spec.js';
import type { ExecutorStep } from '../core/progressive-executor.js';
import type { SlaInput } from '../core/sla.js';
import type { ModelFileCache } from './model-cache.js';
import { trimTrailingSlash, type ModelSource } from './model-source.js';
import type { OrtModule } from './ort-module.js';
import type { LocalContinuation } from './race.js';

/** Where to split and how confident an exit must be. */
export interface ExecutionPlan {
  /**
   * Blocks the device runs before offloading: 0 = server-only (the preprocessed input is sent), the model's
   * block count = device-only (no network). Any value in between must be one of the manifest's `splits`.
   */
  split: number;
  /** Early-exit confidence threshold in [0, 1]; 1 disables early exits (only the final classifier answers). */
  threshold: number;
  /**
   * How the offloaded activation is encoded. When absent, the accuracy-aware choice for this split and threshold
   * (core/codec-choice.ts) within `accuracyBudgetPp`: the smallest profiled bit-width whose loss fits, else lossless.
   */
  codec?: CodecSpec;
  /**
   * Edgent-style truncation: only this exit (index into the manifest's exits) runs, and every request leaves there.
   * Set by the edge for the `edgent` policy; absent for SPINN's plans.
   */
  exit?: number;
}

export interface SpinnClientOptions {
  /** Base URL of the edge worker, e.g. `https://spinn.example.workers.dev` (no trailing `/v1`). */
  edgeUrl: string;
  /** Model id as in the manifest, e.g. `resnet56-fmnist`. */
  modelId: string;
  /**
   * Default plan for calls that pass none. A missing `split` means device-only; a missing `threshold` means
   * DEFAULT_THRESHOLD. With `followEdgePlan`, the edge's suggested plan replaces it after the first offload.
   */
  plan?: Partial<ExecutionPlan>;
  /**
   * Use the plan the edge returns with each result (`result.plan`) for the next call that passes no plan of its
   * own (default true). Plans the model cannot run (unknown split) are ignored.
   */
  followEdgePlan?: boolean;
  /** Accuracy loss (pp) the codec may cost when the plan names no codec; default 0.3. */
  accuracyBudgetPp?: number;
  /**
   * The SLA the scheduler plans for (limits, objective priority, policy: SPINN or a baseline). With an SLA the
   * client asks the edge for its first plan (`POST /v1/plan`), sends the SLA and its measured context (device
   * scale, bandwidth, RTT, server speed) with every offload, follows the plan on each result, refreshes it every
   * `planRefreshEvery` calls while it runs alone, and plans on the device itself (device-only) when the edge cannot
   * be reached. Without one, plans come from `plan` and the edge only echoes them. An explicit `plan` still wins.
   */
  sla?: SlaInput;
  /** With an SLA: ask the edge for a fresh plan after this many calls without an edge plan (default 10). */
  planRefreshEvery?: number;
  /**
   * With an SLA: ask for a fresh plan at once (not after `planRefreshEvery` calls) when the measured device scale
   * has moved this far from the one the plan in force was made for, as a relative change (default 0.3 = 30 %).
   * A new client's first plan is made before it has timed its device, for a device as fast as the profile's; on a
   * slow device that plan is wrong until this replans it.
   */
  planDeviceDrift?: number;
  /** Give up waiting for the server after this many ms (the fetch is aborted and cancelled); default 5000. */
  offloadTimeoutMs?: number;
  /** Timeout of the fire-and-forget `DELETE /v1/requests/:id`, ms; default 2000. */
  cancelTimeoutMs?: number;
  /**
   * What the device does with its remaining blocks after offloading (see LocalContinuation). Default 'hedge': with
   * an SLA (so the client has measured the link and the server) the local run starts once the server is 1.5× past
   * its expected answer time, or has failed; before anything is measured, and without an SLA, it races at once.
   */
  localContinuation?: LocalContinuation;
  /**
   * fetch to use; inject one for tests, auth or custom transports. Default: `globalThis.fetch` (browsers), and
   * `nodeFetch` (node:http with keep-alive, client/node/node-fetch.ts) through the package's Node entry.
   */
  fetch?: typeof fetch;
  /**
   * The raw DEFLATE compressor for the offloaded activation's payload (sparse and quantised codecs): bytes in, a raw
   * DEFLATE stream (RFC 1951, no wrapper) out. Encoding is most of the client's CPU per offload. Default: core's
   * portable fflate (level 6) in browsers, and `nodeDeflate` (node:zlib, about 4x faster and as small;
   * client/node/node-deflate.ts) through the package's Node entry. The edge decodes any raw DEFLATE stream alike.
   */
  deflate?: Deflate;
  /** The edge's API key: sent as `authorization: Bearer <apiKey>` with every request to the edge. */
  apiKey?: string;
  /** Extra headers sent with every request to the edge (an `authorization` here is replaced by `apiKey`'s). */
  headers?: Record<string, string>;
  /**
   * The onnxruntime module (default: `await import('onnxruntime-web')`). Any module with the OrtModule shape works,
   * onnxruntime-node included.
   */
  ort?: OrtModule;
  /**
   * Sets `ort.env.wasm.numThreads` before the first session is created (the setting is global to the module). In
   * browsers more than 1 needs cross-origin isolation; in Node 1 is recommended. Left untouched when omitted.
   */
  wasmNumThreads?: number;
  /** Sets `ort.env.wasm.wasmPaths` (where the .wasm/.mjs files are served from). Left untouched when omitted. */
  wasmPaths?: string;
  /**
   * Sets `ort.env.wasm.proxy`: run the wasm backend in a Web Worker (browsers only), so block compute does not
   * block the page — nor the client's reading of the server's answer while it races. Left untouched when omitted.
   */
  wasmProxy?: boolean;
  /**
   * Whether block compute runs on another thread than the one that reads the edge's responses (default: the value
   * of `wasmProxy`, else false). When it runs on the same thread (plain onnxruntime-web), a plan request's round trip
   * includes the time that thread spent in blocks, and the client subtracts it before pricing the network; when it
   * runs elsewhere (`wasmProxy`, or an `ort` module whose sessions live in a worker thread) the response is read
   * while blocks run, and subtracting their time would make the link look faster than it is.
   */
  computeOffThread?: boolean;
  /** Session options for every block and exit (default: `{ executionProviders: ['wasm'], graphOptimizationLevel: 'all' }`). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Base URL of the model's files in the edge layout; default `${edgeUrl}/v1/models/<modelId>/`. */
  modelBaseUrl?: string;
  /** Full control over where the manifest and files come from (overrides `modelBaseUrl`); see model-source.ts. */
  modelSource?: ModelSource;
  /**
   * Which ONNX sessions the first load creates before any call runs: 'all' (default: every block and exit, so a
   * racing or fallback continuation never waits for a session to load), 'device' (the blocks before the plan's
   * split at load time), or 'none' (each on first use; that use then pays the load time outside `timings`).
   */
  preload?: 'none' | 'device' | 'all';
  /**
   * After preloading, run one blank image through every preloaded session (default true). The first run of a
   * wasm session is several times slower than the next (kernel and weight preparation); this keeps that out of the
   * first real request and out of the race.
   */
  warmup?: boolean;
  /** Where verified model files are kept, keyed by hash (default: a new in-memory cache per client). */
  cache?: ModelFileCache;
  /** Called after every local block and exit, with the phase it ran in (for timelines and debugging). */
  onStep?: (step: ExecutorStep & { phase: 'device' | 'after-split'; requestId: string }) => void;
  /** Clock in ms for timings (default `performance.now`). */
  now?: () => number;
  /**
   * Ask the edge for the plan's explanation (reason, estimate, the context it saw) and the backend's load with
   * every offload (default false: protocol 3's small results carry only a changed plan). For logs and the demo.
   */
  debug?: boolean;
}

export interface ClassifyOptions {
  /** Plan for this call only (merged over the client's current plan); it does not change later calls. */
  plan?: Partial<ExecutionPlan>;
  /**
   * Stops the call as `fetch` does: the local blocks stop at the next block boundary, the offload is aborted and
   * cancelled at the edge, and the promise rejects with `signal.reason` (an `AbortError` DOMException by default).
   */
  signal?: AbortSignal;
}

/** The options with every default filled in, resolved once by the client's constructor. */
export interface ResolvedOptions {
  edgeUrl: string;
  modelId: string;
  followEdgePlan: boolean;
  planRefreshEvery: number;
  planDeviceDrift: number;
  offloadTimeoutMs: number;
  cancelTimeoutMs: number;
  localContinuation: LocalContinuation;
  fetch: typeof fetch;
  deflate: Deflate;
  /** Headers for every request to the edge: `headers` with the API key as a bearer token. */
  headers: Record<string, string> | undefined;
  sessionOptions: InferenceSession.SessionOptions;
  preload: 'none' | 'device' | 'all';
  warmup: boolean;
  computeOffThread: boolean;
  now: () => number;
  debug: boolean;
}

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function edgeHeaders(o: SpinnClientOptions): Record<string, string> | undefined {
  if (o.apiKey === undefined) return o.headers;
  const rest = Object.fromEntries(
    Object.entries(o.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'authorization'),
  );
  return { ...rest, authorization: `Bearer ${o.apiKey}` };
}

/** Checks what the client cannot guess and fills in every default. */
export function resolveOptions(o: SpinnClientOptions): ResolvedOptions {
  if (!o.edgeUrl) throw new TypeError('SpinnClient: edgeUrl is required');
  if (!o.modelId) throw new TypeError('SpinnClient: modelId is required');
  if (typeof (o.fetch ?? globalThis.fetch) !== 'function')
    throw new TypeError('SpinnClient: no fetch available; pass options.fetch');
  return {
    edgeUrl: trimTrailingSlash(o.edgeUrl),
    modelId: o.modelId,
    followEdgePlan: o.followEdgePlan ?? true,
    planRefreshEvery: o.planRefreshEvery ?? 10,
    planDeviceDrift: o.planDeviceDrift ?? 0.3,
    offloadTimeoutMs: o.offloadTimeoutMs ?? DEFAULT_OFFLOAD_TIMEOUT_MS,
    cancelTimeoutMs: o.cancelTimeoutMs ?? DEFAULT_CANCEL_TIMEOUT_MS,
    localContinuation: o.localContinuation ?? 'hedge',
    // Late-bound, so a test or polyfill that replaces globalThis.fetch after construction is honoured.
    fetch: o.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    deflate: o.deflate ?? deflate,
    headers: edgeHeaders(o),
    sessionOptions: o.sessionOptions ?? DEFAULT_SESSION_OPTIONS,
    preload: o.preload ?? 'all',
    warmup: o.warmup ?? true,
    computeOffThread: o.computeOffThread ?? o.wasmProxy ?? false,
    now: o.now ?? defaultNow,
    debug: o.debug ?? false,
  };
}

/** Threshold used when neither the caller nor the edge gave one. */
export const DEFAULT_THRESHOLD = 0.9;
export const DEFAULT_OFFLOAD_TIMEOUT_MS = 5000;
export const DEFAULT_CANCEL_TIMEOUT_MS = 2000;
export const DEFAULT_SESSION_OPTIONS: InferenceSession.SessionOptions = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
};
