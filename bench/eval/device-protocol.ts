// The messages between the experiment runner and an emulated device (a child process running the real client
// library on onnxruntime-web, CPU-throttled by the runner). Kept in one place so both sides agree.

import type { SlaInput } from '../../core/sla.js';
import type { ExecutionPlan, LocalContinuation } from '../../client/index.js';

export interface DeviceJob {
  /** SLA for the client (policy included); without one the fixed `plan` runs (probes, forced plans). */
  sla?: SlaInput;
  plan?: Partial<ExecutionPlan>;
  /** What the device does with its remaining blocks after offloading (the same options for every policy). */
  localContinuation: LocalContinuation;
  /** Test-image indices classified first and not recorded (the profiler and the plan settle meanwhile). */
  warmupImages: number[];
  /** Test-image indices to classify and record, in order (cycled while `untilEpochMs` has not passed). */
  images: number[];
  offloadTimeoutMs: number;
  /** Hard limit per request: a classify that has not settled by then counts as unanswered (hung). */
  hangMs: number;
  /** Closed loop: keep classifying (cycling `images`) until the wall clock passes this (Date.now ms). */
  untilEpochMs?: number;
  /** Send a progress message after every request (the runner injects failures at chosen points). */
  progress?: boolean;
  /** Record every block's and exit's device time (the device probe of the oracle's component costs). */
  steps?: boolean;
}

/** One measured request. Times in ms; `at` is the wall clock (Date.now) when the request started. */
export interface RequestRecord {
  image: number;
  at: number;
  answered: boolean;
  correct: boolean;
  exit: number;
  decidedBy: string;
  split: number;
  threshold: number;
  totalMs: number;
  /** Device compute (before the split and any local continuation). */
  deviceMs: number;
  serverMs: number | null;
  queueMs: number | null;
  roundTripMs: number | null;
  /** Blocks the server ran, when it answered. */
  serverBlocksRun?: number | null;
  bytesSent: number;
  error?: string;
  planSource?: string;
  /** What the scheduler saw when it made this request's plan (device scale, bandwidth B/s, RTT and overhead ms). */
  seen?: { deviceScale: number; bandwidthBps: number; rttMs: number; offloadOverheadMs?: number };
  /** The scheduler's latency estimate for this request's plan, ms. */
  estimatedMs?: number;
  /** With `steps`: device ms of every block and exit that ran, by index. */
  stepMs?: { block: number[]; exit: number[] };
}

export type ToDevice =
  | { op: 'run'; id: number; job: DeviceJob }
  | { op: 'go'; id: number; untilEpochMs?: number }
  | { op: 'exit' };

export type FromDevice =
  /** id -1: the process is up; `tid` is the thread running onnxruntime (device model 'nn'). */
  | { op: 'ready'; id: number; tid?: number }
  | { op: 'progress'; id: number; done: number }
  | { op: 'result'; id: number; records: RequestRecord[]; wallMs: number }
  | { op: 'error'; id: number; message: string };
