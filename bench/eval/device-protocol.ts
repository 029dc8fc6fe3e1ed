// The messages between the experiment runner and the emulated device (a child process running the real client
// library on onnxruntime-web, CPU-throttled by the runner). Kept in one place so both sides agree.

import type { SlaInput } from '../../core/sla.js';
import type { ExecutionPlan } from '../../client/client-options.js';
import type { LocalContinuation } from '../../client/race.js';

export interface DeviceJob {
  /** SLA for the client (policy included); without one the fixed `plan` runs. */
  sla?: SlaInput;
  plan?: Partial<ExecutionPlan>;
  /** Test-image indices to classify, in order; the first `warmup` answers are not recorded. */
  images: number[];
  warmup: number;
  offloadTimeoutMs: number;
  /** SPINN's 'hedge' (or 'race'), or 'on-failure' for the plain offloading baselines; see client/race.ts. */
  localContinuation: LocalContinuation;
  /** Hard limit per request: a classify that has not settled by then counts as unanswered (hung). */
  hangMs: number;
  /** Stop early (before the next request) once the wall clock passes this (Date.now ms); for trace runs. */
  untilEpochMs?: number;
  /** Send a progress message after every request (the runner injects failures at chosen points). */
  progress?: boolean;
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
  deviceMs: number;
  serverMs: number | null;
  queueMs: number | null;
  roundTripMs: number | null;
  bytesSent: number;
  error?: string;
  planSource?: string;
  /** What the scheduler saw when it made this request's plan (device scale, bandwidth B/s, RTT and overhead ms). */
  seen?: { deviceScale: number; bandwidthBps: number; rttMs: number; offloadOverheadMs?: number };
  /** The scheduler's latency estimate for this request's plan, ms. */
  estimatedMs?: number;
}

export type ToDevice =
  | { op: 'run'; id: number; job: DeviceJob }
  | { op: 'go'; id: number; untilEpochMs?: number }
  | { op: 'exit' };

export type FromDevice =
  | { op: 'ready'; id: number }
  | { op: 'progress'; id: number; done: number }
  | { op: 'result'; id: number; records: RequestRecord[]; wallMs: number }
  | { op: 'error'; id: number; message: string };
