// Sends one offload to the fleet: the seam between whoever makes the backend call (today the request's Durable
// Object) and the backend choice. It picks the backend (backend-pool.ts: least loaded, healthy), tells the caller
// which one holds the request before the call starts (so a cancel reaches that one), makes the call (a SPINN
// backend's /infer, or an OIP v2 server for a model's server-only requests), reports the outcome back to the pool
// (load, ejection), and sends the offload once to another backend when the first gave no HTTP answer at all
// (refused, reset, closed: it never started the request, or died with it) or refused it with 503 (overloaded or
// shutting down, before queueing it). A timeout is never retried: that backend may still be computing, and a second
// run would double the load exactly when the fleet is slow. Probes of ejected backends whose time is up run in the
// background on the way.

import { validateOffload } from '../core/offload-validation.js';
import { decodeOffload } from '../core/wire.js';
import type { BackendLoad } from '../core/scheduler-context.js';
import { oipBackendsFor, type BackendSpec } from './backends-config.js';
import {
  backendCancel,
  backendHealth,
  backendInfer,
  describeError,
  type InferOutcome,
} from './backend-client.js';
import type { Env, WorkerConfig } from './env.js';
import { poolFor, type BackendPool } from './backend-pool.js';
import { getManifest } from './model-registry.js';
import { oipInfer } from './oip-client.js';

export interface OffloadJob {
  requestId: string;
  modelId: string;
  split: number;
  threshold: number;
  /** The validated offload, re-encoded by the edge (msgpack). */
  body: Uint8Array;
}

export interface RouteHooks {
  /** Called when a backend is chosen for an attempt, before the call starts. */
  onDispatch(backend: BackendSpec): void;
  /** Keeps background work (probes, the cancel of an abandoned attempt) alive after the answer is sent. */
  waitUntil(work: Promise<unknown>): void;
}

export interface RoutedOutcome {
  outcome: InferOutcome;
  /** The backend that gave `outcome` (the last one tried); null when the fleet had none to try. */
  backend: BackendSpec | null;
  attempts: number;
}

const MAX_ATTEMPTS = 2;

/** Who may take this offload: OIP servers holding the model for a server-only request, else the SPINN backends. */
export function candidatesFor(backends: readonly BackendSpec[], job: Pick<OffloadJob, 'modelId' | 'split'>) {
  const oip = job.split === 0 ? oipBackendsFor(backends, job.modelId) : [];
  return oip.length ? oip : backends.filter((b) => b.kind === 'spinn');
}

/** Worth sending to another backend: this one never took the request (or died with it). */
export function retryable(outcome: InferOutcome): boolean {
  return outcome.kind === 'unreachable' || (outcome.kind === 'bad-response' && outcome.httpStatus === 503);
}

export async function routeOffload(
  env: Env,
  config: WorkerConfig,
  job: OffloadJob,
  signal: AbortSignal,
  hooks: RouteHooks,
): Promise<RoutedOutcome> {
  const pool = poolFor(config.backends);
  for (const due of pool.takeProbesDue()) hooks.waitUntil(probe(config, pool, due));
  const candidates = candidatesFor(config.backends, job);
  const tried = new Set<string>();
  let last: RoutedOutcome = {
    outcome: { kind: 'unreachable', error: config.backendsProblem ?? 'no backend can take this request' },
    backend: null,
    attempts: 0,
  };
  while (tried.size < MAX_ATTEMPTS) {
    const backend = pool.pick(candidates, tried);
    if (!backend) break;
    tried.add(backend.name);
    hooks.onDispatch(backend);
    let outcome: InferOutcome;
    try {
      outcome = await call(env, config, backend, job, signal);
    } finally {
      pool.release(backend.name);
    }
    account(pool, backend, outcome);
    last = { outcome, backend, attempts: tried.size };
    if (signal.aborted || !retryable(outcome)) break;
    // It may have the request after all (a connection cut between us and a live backend): ask it to stop.
    if (outcome.kind === 'unreachable') hooks.waitUntil(backendCancel(config, backend, job.requestId));
  }
  return last;
}

async function call(
  env: Env,
  config: WorkerConfig,
  backend: BackendSpec,
  job: OffloadJob,
  signal: AbortSignal,
): Promise<InferOutcome> {
  if (backend.kind === 'spinn') return backendInfer(config, backend, job.body, signal);
  try {
    // The OIP request carries the model input itself, decoded again from the validated body (server-only requests
    // only: the pixels or the preprocessed image, 4-110 KB).
    const manifest = await getManifest(env, config, job.modelId);
    const { values } = validateOffload(manifest, decodeOffload(job.body));
    return oipInfer(
      config,
      backend,
      { requestId: job.requestId, threshold: job.threshold, manifest, values },
      signal,
    );
  } catch (e) {
    return { kind: 'bad-response', httpStatus: 0, error: `OIP request not built: ${describeError(e)}` };
  }
}

function account(pool: BackendPool, backend: BackendSpec, outcome: InferOutcome): void {
  if (outcome.kind === 'result') pool.answered(backend.name, outcome.result.load);
  else if (outcome.kind === 'unreachable' || outcome.kind === 'timeout') pool.failed(backend.name);
}

async function probe(config: WorkerConfig, pool: BackendPool, backend: BackendSpec): Promise<void> {
  const health = await backendHealth(config, backend);
  const load = healthLoad(health.body);
  if (load) pool.reportLoad(backend.name, load);
  pool.probed(backend.name, health.reachable);
}

/** The load a SPINN backend's /health reports (busy, queued, workers), if it reports one. */
export function healthLoad(body: unknown): BackendLoad | undefined {
  const b = body as { busy?: unknown; queued?: unknown; workers?: unknown } | undefined;
  if (typeof b?.busy !== 'number' || typeof b.queued !== 'number') return undefined;
  return { busy: b.busy, queued: b.queued, workers: typeof b.workers === 'number' ? b.workers : 1 };
}
