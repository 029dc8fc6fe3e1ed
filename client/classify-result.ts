// What `classify` resolves with: the answer, who decided it and why, what went over the wire, and where the time
// went. Every field is plain data (JSON-serialisable) so results can be logged and plotted directly.

import type { ClientContext, Plan, ResultStatus } from '../core/wire.js';
import type { ExecutionPlan } from './client-options.js';
import type { OffloadFailure } from './offload.js';

/**
 * Who produced the answer:
 * - `device`: an exit before the split fired, or the plan was device-only; no network was used.
 * - `server`: the server's `done` result arrived before the device's own continuation answered.
 * - `device-race`: the device's continuation after the split answered first; the offload was aborted and the
 *   request cancelled at the edge (`DELETE /v1/requests/:id`).
 * - `device-fallback`: the offload failed (network error, timeout, HTTP error, bad body, or the server answered
 *   `failed`/`cancelled`); the device finished alone.
 */
export type DecidedBy = 'device' | 'server' | 'device-race' | 'device-fallback';

export interface ClassifyTimings {
  /** Local compute (blocks + exits) before the split, ms. */
  deviceMs: number;
  /** Local compute after the split (the racing or fallback continuation), ms; 0 when it did not run. */
  localAfterSplitMs: number;
  /** Encoding the activation and the offload message, ms; 0 without an offload. */
  encodeMs: number;
  /** Offload sent → result read, minus the server's compute and queue time (network + edge), ms; null without a result. */
  uploadMs: number | null;
  /** Offload sent → result read, ms; null without a result. */
  roundTripMs: number | null;
  /** Server compute, as the result reports it, ms; null without a result. */
  serverMs: number | null;
  /** Time the request queued at the server, as the result reports it, ms; null without a result. */
  queueMs: number | null;
  /** Start of the call (model loaded) → answer known, ms. Excludes waiting for a stopped local run to return. */
  totalMs: number;
}

export interface ClassifyResult {
  requestId: string;
  /** Class index and its name from the manifest. */
  label: number;
  className: string;
  /** Softmax top-1 probability at the answering exit. */
  confidence: number;
  /** Index into the manifest's exits of the exit that answered. */
  exit: number;
  decidedBy: DecidedBy;
  /** The plan this call ran. */
  plan: ExecutionPlan;
  /** Bytes of the offload body POSTed (0 when nothing was sent). */
  bytesSent: number;
  /** Status of the server's result message, when one arrived. */
  serverStatus?: ResultStatus;
  /** Why the offload gave no answer, for `device-fallback` (and the message the edge gave, if any). */
  offloadError?: { reason: OffloadFailure | ResultStatus; message: string; httpStatus?: number };
  /** Whether the client sent `DELETE /v1/requests/:id` for this request (local win, timeout, network error). */
  cancelledServer: boolean;
  /** The plan the edge suggested for the next request, when its result carried one. */
  nextPlan?: Plan;
  /**
   * With an SLA: the scheduled plan this call ran (its reason, estimate and everything the scheduler saw), where
   * it came from, and the context this client reported with the call.
   */
  schedule?: { plan: Plan; source: 'edge' | 'local'; context: ClientContext };
  /** Blocks run: on the device before the split, on the device after it, and on the server (when reported). */
  blocks: { device: number; localAfterSplit: number; server: number | null };
  timings: ClassifyTimings;
}
