// One inference worker thread. onnxruntime-node's run() blocks the thread that calls it, so sessions live here,
// off the HTTP event loop: the main thread keeps answering cancels, health and metrics while this thread walks
// blocks with core's runProgressive. It loads every block and exit session once (CUDA first when asked, CPU as the
// fallback, and says which), warms them up, then runs one job at a time from `split` to the end, checking the shared
// cancel flag before every block and exit.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { NonFiniteOutputError, runProgressive, type SessionProvider } from '../core/progressive-executor.js';
import type { ModelManifest } from '../core/manifest.js';
import { loadModelDir } from './model-store.js';
import {
  CONTROL_BLOCKS,
  CONTROL_HELD,
  CONTROL_HOLD,
  CONTROL_STATE,
  NO_HOLD,
  STATE_CANCELLED,
  STATE_FINISHED,
  STATE_RUNNING,
  type ActiveProvider,
  type FromWorker,
  type JobDone,
  type RunJob,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const control = new Int32Array(init.control);

function post(msg: FromWorker): void {
  port!.postMessage(msg);
}

let active: ActiveProvider | null = null;
let fallbackReason: string | null = null;

function baseOptions(): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Spinning intra-op threads burn their core between the many short runs of a block-by-block walk; on shared
    // or oversubscribed cores that made a 28-block request ~20x slower (see config.ts), so it is opt-in.
    extra: { session: { intra_op: { allow_spinning: init.spinning ? '1' : '0' } } },
  };
}

/**
 * Why CUDA cannot even be tried, or null. onnxruntime-node loads its CUDA provider from a library beside its native
 * binding, which the package's install script downloads only when allowed (`onnxruntime-node-install` in .npmrc);
 * checking first gives a clearer reason than the native loader's error, and keeps that error off stderr.
 */
function cudaLibraryMissing(): string | null {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (process.platform !== 'linux' || existsSync(lib)) return null;
  return `onnxruntime-node has no CUDA provider library (${lib} is missing: installed with onnxruntime-node-install=skip?)`;
}

/** Creates a session on the active provider; the first call decides it (CUDA first unless cpu was asked for). */
async function createSession(path: string): Promise<ort.InferenceSession> {
  if (active === null) {
    if (init.provider === 'cpu') active = 'cpu';
    else if ((fallbackReason = cudaLibraryMissing())) active = 'cpu';
    else {
      try {
        // CPU stays listed so any op without a CUDA kernel still runs; a missing CUDA library throws here.
        const s = await ort.InferenceSession.create(path, {
          ...baseOptions(),
          executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'],
        });
        active = 'cuda';
        return s;
      } catch (e) {
        active = 'cpu';
        fallbackReason = (e as Error).message.split('\n')[0]!.slice(0, 500);
      }
    }
  }
  return ort.InferenceSession.create(path, {
    ...baseOptions(),
    executionProviders: active === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'],
  });
}

interface ModelSessions {
  manifest: ModelManifest;
  sessions: SessionProvider;
}

async function loadModel(id: string, dir: string): Promise<ModelSessions> {
  const { manifest } = loadModelDir(dir);
  if (manifest.id !== id) throw new Error(`model folder ${dir} now holds ${manifest.id}, expected ${id}`);
  const blocks: ort.InferenceSession[] = [];
  for (const b of manifest.blocks) blocks.push(await createSession(join(dir, b.file)));
  const exits: ort.InferenceSession[] = [];
  for (const e of manifest.exits) exits.push(await createSession(join(dir, e.file)));
  const sessions: SessionProvider = {
    block: async (i) => blocks[i] ?? Promise.reject(new RangeError(`no block ${i}`)),
    exit: async (i) => exits[i] ?? Promise.reject(new RangeError(`no exit ${i}`)),
  };
  return { manifest, sessions };
}

const createTensor = (values: Float32Array, dims: readonly number[]) =>
  new ort.Tensor('float32', values, dims);

const models = new Map<string, ModelSessions>();

async function run(job: RunJob): Promise<JobDone> {
  const base = { type: 'result' as const, jobId: job.jobId };
  const failed = (blocksRun: number, computeMs: number, error: string): JobDone => ({
    ...base,
    status: 'failed',
    exit: null,
    label: null,
    confidence: null,
    blocksRun,
    computeMs,
    error,
  });
  const model = models.get(job.modelId);
  if (!model) return failed(0, 0, `model ${job.modelId} is not loaded`);
  let blocksRun = 0;
  let computeMs = 0;
  try {
    const r = await runProgressive({
      manifest: model.manifest,
      sessions: model.sessions,
      createTensor,
      input: job.values,
      inputShape: job.shape,
      fromBlock: job.split,
      toBlock: model.manifest.blocks.length,
      threshold: job.threshold,
      ...(job.onlyExit !== undefined ? { onlyExit: job.onlyExit } : {}),
      isCancelled: () => {
        if (init.testHooks) waitWhileHeld(blocksRun);
        return Atomics.load(control, CONTROL_STATE) === STATE_CANCELLED;
      },
      onStep: (s) => {
        if (s.kind === 'block') Atomics.store(control, CONTROL_BLOCKS, ++blocksRun);
        computeMs += s.ms;
      },
      now: () => performance.now(),
    });
    const o = r.outcome;
    const cancelled: JobDone = {
      ...base,
      status: 'cancelled',
      exit: null,
      label: null,
      confidence: null,
      blocksRun: r.blocksRun,
      computeMs: r.computeMs,
    };
    // Claim completion; if a cancel was acknowledged after the last check, it wins and the answer is dropped.
    if (Atomics.compareExchange(control, CONTROL_STATE, STATE_RUNNING, STATE_FINISHED) === STATE_CANCELLED) {
      return cancelled;
    }
    switch (o.kind) {
      case 'exit':
        return {
          ...base,
          status: 'done',
          exit: o.exit,
          label: o.label,
          confidence: o.confidence,
          blocksRun: r.blocksRun,
          computeMs: r.computeMs,
        };
      case 'cancelled':
        return cancelled;
      case 'split':
        return failed(r.blocksRun, r.computeMs, `model ${job.modelId} ended without a final exit`);
    }
  } catch (e) {
    Atomics.compareExchange(control, CONTROL_STATE, STATE_RUNNING, STATE_FINISHED);
    // Our own non-finite guard says what happened in words the client may read; a runtime's error text (paths,
    // node names) stays in the backend's log only.
    const detail = (e as Error).message;
    const error =
      e instanceof NonFiniteOutputError ? `inference failed: ${detail}` : 'inference failed in the runtime';
    return { ...failed(blocksRun, computeMs, error), detail };
  }
}

/**
 * The hold test hook (--test-hooks only): once the job has run CONTROL_HOLD blocks, wait here — between two blocks,
 * where a cancel is checked anyway — until the hold is lifted or the job is cancelled. Tests use it to decide a
 * race (the device must finish first) by a gate instead of by throttling the server and hoping. The 50 ms wait is a
 * re-check period, not a timing assumption: both the pool's release and its cancel also notify the slot.
 */
function waitWhileHeld(blocksRun: number): void {
  for (;;) {
    const hold = Atomics.load(control, CONTROL_HOLD);
    if (hold === NO_HOLD || blocksRun < hold) break;
    if (Atomics.load(control, CONTROL_STATE) !== STATE_RUNNING) break;
    Atomics.store(control, CONTROL_HELD, 1);
    Atomics.wait(control, CONTROL_HOLD, hold, 50);
  }
  Atomics.store(control, CONTROL_HELD, 0);
}

/** Runs every model once end to end on a realistic-magnitude input so the first real request is not the slow one. */
async function warmup(): Promise<void> {
  for (const { manifest, sessions } of models.values()) {
    const shape = manifest.input.shape.map((d, i) => (i === 0 ? 1 : d));
    const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(-0.81); // normalised black pixel
    await runProgressive({
      manifest,
      sessions,
      createTensor,
      input,
      inputShape: shape,
      fromBlock: 0,
      toBlock: manifest.blocks.length,
      threshold: 1,
    });
  }
}

async function start(): Promise<void> {
  const t0 = performance.now();
  for (const m of init.models) models.set(m.id, await loadModel(m.id, m.dir));
  const t1 = performance.now();
  await warmup();
  const t2 = performance.now();
  post({ type: 'ready', provider: active ?? 'cpu', fallbackReason, loadMs: t1 - t0, warmupMs: t2 - t1 });
  // Jobs arrive one at a time (the pool never sends a second before the first answers); the queue keeps it safe.
  let chain = Promise.resolve();
  port!.on('message', (msg: ToWorker) => {
    if (msg.type !== 'run') return;
    chain = chain.then(async () => post(await run(msg)));
  });
}

start().catch((e: unknown) => {
  post({ type: 'fatal', error: `worker failed to start: ${(e as Error).message}` });
});
