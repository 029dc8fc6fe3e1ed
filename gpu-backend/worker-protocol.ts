// The messages between the main thread (inference-pool.ts) and each inference worker thread
// (inference-worker.ts), and the layout of the shared control block through which the main thread cancels a running
// request without waiting for the worker's event loop: both sides import this one definition.

import type { ProviderChoice } from './config.js';

/** Execution provider a worker's sessions actually run on. */
export type ActiveProvider = 'cuda' | 'cpu';

/** Int32 slots of the per-worker SharedArrayBuffer. */
export const CONTROL_STATE = 0; // state of the job in flight, below; reset to RUNNING before each job
export const CONTROL_BLOCKS = 1; // worker counts blocks finished by the job in flight
/** Test hook only (--test-hooks): hold a job once it has run this many blocks, until released or cancelled; -1 none. */
export const CONTROL_HOLD = 2;
/** Test hook only: 1 while the worker is holding its job. */
export const CONTROL_HELD = 3;
export const CONTROL_SLOTS = 4;

/** Value of CONTROL_HOLD when nothing is held. */
export const NO_HOLD = -1;

/**
 * Job states. Cancel (main thread) and completion (worker) each move RUNNING on with a compare-and-swap, so exactly
 * one wins: a cancel acknowledged as running always ends in a `cancelled` result, and a cancel that finds FINISHED
 * is reported as already finished, even while the result message is still on its way.
 */
export const STATE_RUNNING = 0;
export const STATE_CANCELLED = 1;
export const STATE_FINISHED = 2;

export interface WorkerInit {
  models: { id: string; dir: string }[];
  provider: ProviderChoice;
  threads: number;
  spinning: boolean;
  control: SharedArrayBuffer;
  /** Whether the hold test hook is compiled into the job loop at all (never in production). */
  testHooks: boolean;
}

export interface RunJob {
  type: 'run';
  jobId: number;
  modelId: string;
  split: number;
  threshold: number;
  /** Edgent-style truncation: only this exit runs and answers. */
  onlyExit?: number;
  values: Float32Array;
  shape: number[];
}

export type ToWorker = RunJob;

export interface WorkerReady {
  type: 'ready';
  provider: ActiveProvider;
  /** Why CUDA was not used when it was asked for (null when it runs, or when cpu was asked for). */
  fallbackReason: string | null;
  loadMs: number;
  warmupMs: number;
}

export interface JobDone {
  type: 'result';
  jobId: number;
  status: 'done' | 'cancelled' | 'failed';
  exit: number | null;
  label: number | null;
  confidence: number | null;
  blocksRun: number;
  computeMs: number;
  /** What went wrong, in words fit for the client. */
  error?: string;
  /** The underlying error's own text, for the backend's log only. */
  detail?: string;
}

export interface WorkerFatal {
  type: 'fatal';
  error: string;
}

export type FromWorker = WorkerReady | JobDone | WorkerFatal;
