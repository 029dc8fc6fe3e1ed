// One inference worker thread. onnxruntime-node's run() blocks the thread that calls it, so sessions live here,
// off the HTTP event loop: the main thread keeps answering cancels, health and metrics while this thread walks
// blocks with core's batched progressive walk. It loads every block and exit session once (CUDA first when asked,
// CPU as the fallback, and says which), warms them up, then runs one batch at a time: each job joins at its split and
// leaves at its exit or at its cancel (its own shared flag, checked before every block and exit), and its answer is
// posted as soon as it leaves.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runProgressiveBatch, type BatchResult } from '../core/progressive-batch.js';
import { createTensor, loadSessions, warmUp, type ModelSessions } from './sessions.js';
import {
  CONTROL_BLOCKS,
  CONTROL_STATE,
  HOLD_AT,
  HOLD_HELD,
  NO_HOLD,
  STATE_CANCELLED,
  STATE_FINISHED,
  STATE_RUNNING,
  controlIndex,
  type BatchJob,
  type FromWorker,
  type JobDone,
  type RunBatch,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const hold = new Int32Array(init.hold);
const models = new Map<string, ModelSessions>();

function post(msg: FromWorker): void {
  port!.postMessage(msg);
}

const stateIndex = (slot: number) => controlIndex(slot, CONTROL_STATE);

/**
 * The answer for a job that left the batch. Completion is claimed with a compare-and-swap on the job's state; if a
 * cancel was acknowledged after the last check, it wins and the answer is dropped.
 */
function answer(job: BatchJob, modelId: string, r: BatchResult): JobDone {
  const base = { jobId: job.jobId, blocksRun: r.blocksRun, computeMs: r.computeMs };
  const none = { exit: null, label: null, confidence: null };
  const prev = Atomics.compareExchange(control, stateIndex(job.slot), STATE_RUNNING, STATE_FINISHED);
  const o = r.outcome;
  if (prev === STATE_CANCELLED || o.kind === 'cancelled') return { ...base, ...none, status: 'cancelled' };
  if (o.kind === 'failed')
    return { ...base, ...none, status: 'failed', error: `inference failed: ${o.error}` };
  if (o.kind === 'split') {
    return { ...base, ...none, status: 'failed', error: `model ${modelId} ended without a final exit` };
  }
  return {
    ...base,
    status: 'done',
    exit: o.exit,
    label: o.label,
    confidence: o.confidence,
    probabilities: o.probabilities,
  };
}

/** Walks one batch; results go to the pool as jobs leave, the last message saying the batch is done. */
async function runBatch(batch: RunBatch): Promise<void> {
  const { jobs, batchId, modelId } = batch;
  let left = 0;
  const send = (results: JobDone[]) => {
    left += results.length;
    post({ type: 'results', batchId, results, batchDone: left === jobs.length });
  };
  const model = models.get(modelId);
  if (!model) {
    send(jobs.map((j) => failed(j, 0, 0, `model ${modelId} is not loaded`)));
    return;
  }
  const blocksRun = new Array<number>(jobs.length).fill(0);
  const computeMs = new Array<number>(jobs.length).fill(0);
  const answered = new Set<number>();
  try {
    await runProgressiveBatch({
      manifest: model.manifest,
      sessions: model.sessions,
      createTensor,
      items: jobs.map((j) => ({
        input: j.values,
        inputShape: j.shape,
        fromBlock: j.split,
        threshold: j.threshold,
        ...(j.onlyExit !== undefined ? { onlyExit: j.onlyExit } : {}),
      })),
      toBlock: model.manifest.blocks.length,
      isCancelled: (i) => {
        if (init.testHooks) waitWhileHeld(jobs[i]!.slot, blocksRun[i]!);
        return Atomics.load(control, stateIndex(jobs[i]!.slot)) === STATE_CANCELLED;
      },
      onStep: (s) => {
        for (const i of s.items) {
          computeMs[i]! += s.ms;
          if (s.kind === 'block')
            Atomics.store(control, controlIndex(jobs[i]!.slot, CONTROL_BLOCKS), ++blocksRun[i]!);
        }
      },
      onLeave: (gone) => {
        for (const g of gone) answered.add(g.item);
        send(gone.map((g) => answer(jobs[g.item]!, modelId, g.result)));
      },
      now: () => performance.now(),
    });
  } catch (e) {
    // A runtime's error text (paths, node names) stays in the backend's log; the client reads a fixed sentence.
    const detail = (e as Error).message;
    const rest = jobs.flatMap((j, i) => (answered.has(i) ? [] : [{ j, i }]));
    for (const { j } of rest)
      Atomics.compareExchange(control, stateIndex(j.slot), STATE_RUNNING, STATE_FINISHED);
    send(
      rest.map(({ j, i }) => ({
        ...failed(j, blocksRun[i]!, computeMs[i]!, 'inference failed in the runtime'),
        detail,
      })),
    );
  }
}

/**
 * The hold test hook (--test-hooks only): once a job has run HOLD_AT blocks, wait here — between two blocks, where
 * its cancel is checked anyway — until the hold is lifted or the job is cancelled. Tests use it to decide a race
 * (the device must finish first) by a gate instead of by throttling the server and hoping. The 50 ms wait is a
 * re-check period, not a timing assumption: the pool's release and a cancel both notify the hold word.
 */
function waitWhileHeld(slot: number, blocksRun: number): void {
  for (;;) {
    const at = Atomics.load(hold, HOLD_AT);
    if (at === NO_HOLD || blocksRun < at) break;
    if (Atomics.load(control, stateIndex(slot)) !== STATE_RUNNING) break;
    Atomics.store(hold, HOLD_HELD, slot + 1);
    Atomics.wait(hold, HOLD_AT, at, 50);
  }
  Atomics.store(hold, HOLD_HELD, 0);
}

function failed(job: BatchJob, blocksRun: number, computeMs: number, error: string): JobDone {
  return {
    jobId: job.jobId,
    status: 'failed',
    exit: null,
    label: null,
    confidence: null,
    blocksRun,
    computeMs,
    error,
  };
}

async function start(): Promise<void> {
  const t0 = performance.now();
  const loaded = await loadSessions(init.models, init);
  for (const [id, m] of loaded.models) models.set(id, m);
  const t1 = performance.now();
  await warmUp(models, [1, init.warmupBatch[loaded.provider]]);
  const t2 = performance.now();
  post({
    type: 'ready',
    provider: loaded.provider,
    fallbackReason: loaded.fallbackReason,
    loadMs: t1 - t0,
    warmupMs: t2 - t1,
  });
  // Batches arrive one at a time (the pool never sends a second before the first is done); the chain keeps it safe.
  let chain = Promise.resolve();
  port!.on('message', (msg: ToWorker) => {
    if (msg.type !== 'batch') return;
    chain = chain.then(() => runBatch(msg));
  });
}

start().catch((e: unknown) => {
  post({ type: 'fatal', error: `worker failed to start: ${(e as Error).message}` });
});
