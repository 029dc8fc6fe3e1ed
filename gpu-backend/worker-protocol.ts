// The messages between the main thread (inference-pool.ts) and each inference worker thread
// (inference-worker.ts), and the layout of the shared control block through which the main thread cancels a running
// request without waiting for the worker's event loop: both sides import this one definition. A worker runs one
// batch at a time; job k of the batch owns control slots [k * CONTROL_SLOTS, (k + 1) * CONTROL_SLOTS).

import type { ProviderChoice } from './config.js';

/** Execution provider a worker's sessions actually run on. */
export type ActiveProvider = 'cuda' | 'cpu';

/** Int32 slots per job in the per-worker SharedArrayBuffer (offsets within the job's slots). */
export const CONTROL_STATE = 0; // state of the job, below; reset to RUNNING before each batch
export const CONTROL_BLOCKS = 1; // worker counts blocks finished by the job
export const CONTROL_SLOTS = 2;

/** Index in the control block of `field` (CONTROL_STATE or CONTROL_BLOCKS) of the batch's job `slot`. */
export const controlIndex = (slot: number, field: number): number => slot * CONTROL_SLOTS + field;

/**
 * Job states. Cancel (main thread) and completion (worker) each move RUNNING on with a compare-and-swap, so exactly
 * one wins: a cancel acknowledged as running always ends in a `cancelled` result, and a cancel that finds FINISHED
 * is reported as already finished, even while the result message is still on its way.
 */
/** The hold test hook (--test-hooks only): its own small shared block per worker, [HOLD_AT, HOLD_HELD]. */
export const HOLD_AT = 0; // jobs wait once they have run this many blocks, until released or cancelled; NO_HOLD: none
export const HOLD_HELD = 1; // 1 + the control slot of the job the worker is holding, 0 when none
export const HOLD_SLOTS = 2;
export const NO_HOLD = -1;

export const STATE_RUNNING = 0;
export const STATE_CANCELLED = 1;
export const STATE_FINISHED = 2;

export interface WorkerInit {
  models: { id: string; dir: string }[];
  provider: ProviderChoice;
  threads: number;
  spinning: boolean;
  /** CONTROL_SLOTS int32 per job, for as many jobs as the largest batch. */
  control: SharedArrayBuffer;
  /** Largest batch it may get on each provider: it warms up at that size (and at 1) on the one it gets. */
  warmupBatch: Record<ActiveProvider, number>;
  /** HOLD_SLOTS int32 for the hold test hook; the worker checks it only when `testHooks` is set. */
  hold: SharedArrayBuffer;
  /** Whether the hold test hook runs in the job loop at all (never in production). */
  testHooks: boolean;
}

export interface BatchJob {
  jobId: number;
  /** Its place in the batch: which control slots are its own. */
  slot: number;
  split: number;
  threshold: number;
  /** Edgent-style truncation: only this exit runs and answers. */
  onlyExit?: number;
  values: Float32Array;
  shape: number[];
}

/** Jobs of one model, run together (each joins at its split, leaves at its exit or cancel). */
export interface RunBatch {
  type: 'batch';
  batchId: number;
  modelId: string;
  jobs: BatchJob[];
}

export type ToWorker = RunBatch;

export interface WorkerReady {
  type: 'ready';
  provider: ActiveProvider;
  /** Why CUDA was not used when it was asked for (null when it runs, or when cpu was asked for). */
  fallbackReason: string | null;
  loadMs: number;
  warmupMs: number;
}

export interface JobDone {
  jobId: number;
  status: 'done' | 'cancelled' | 'failed';
  exit: number | null;
  label: number | null;
  confidence: number | null;
  blocksRun: number;
  computeMs: number;
  /** Softmax of the exit that answered (done only). */
  probabilities?: Float32Array;
  /** What went wrong, in words fit for the client. */
  error?: string;
  /** The underlying error's own text, for the backend's log only. */
  detail?: string;
}

/** Jobs that left the batch (sent as they leave); `batchDone` once every job of the batch has. */
export interface BatchResults {
  type: 'results';
  batchId: number;
  results: JobDone[];
  batchDone: boolean;
}

export interface WorkerFatal {
  type: 'fatal';
  error: string;
}

export type FromWorker = WorkerReady | BatchResults | WorkerFatal;
