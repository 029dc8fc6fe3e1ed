// What `classify` resolves with: the answer, who decided it and why, what went over the wire, and where the time
// went, and the functions that build it. Every field is plain data (JSON-serialisable) so results can be logged and
// plotted directly.

import type { ModelManifest } from '../core/manifest.js';
import type { ClientContext, Plan, ResultStatus } from '../core/wire.js';
import type { ExecutionPlan } from './client-options.js';
import type { OffloadFailure, OffloadOutcome } from './offload.js';
import type { RaceOutcome } from './race.js';

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

// Building a result. The classify flow hands over what happened (the device run, the offload, the race); these
// functions turn it into the plain-data result, so the flow itself stays about control.

/** An exit that answered: on the device, or the server's `done` result. */
export interface Answer {
  label: number;
  confidence: number;
  exit: number;
}

/** Fields every result of a call shares, fixed before the offload. */
export interface CallBase {
  requestId: string;
  plan: ExecutionPlan;
  schedule?: ClassifyResult['schedule'];
  deviceMs: number;
  deviceBlocks: number;
  /** Clock reading at the start of the call. */
  t0: number;
}

const classOf = (manifest: ModelManifest, label: number) => manifest.classes[label] ?? String(label);

/** An exit before the split fired (or the plan is device-only): no network was used. */
export function deviceResult(
  manifest: ModelManifest,
  base: CallBase,
  a: Answer,
  now: number,
): ClassifyResult {
  return {
    requestId: base.requestId,
    label: a.label,
    className: classOf(manifest, a.label),
    confidence: a.confidence,
    exit: a.exit,
    decidedBy: 'device',
    plan: base.plan,
    ...(base.schedule ? { schedule: base.schedule } : {}),
    bytesSent: 0,
    cancelledServer: false,
    blocks: { device: base.deviceBlocks, localAfterSplit: 0, server: null },
    timings: {
      deviceMs: base.deviceMs,
      localAfterSplitMs: 0,
      encodeMs: 0,
      uploadMs: null,
      roundTripMs: null,
      serverMs: null,
      queueMs: null,
      totalMs: now - base.t0,
    },
  };
}

/** What the offload and the race after it produced. */
export interface OffloadedCall {
  bytesSent: number;
  encodeMs: number;
  race: RaceOutcome;
  /** The plan the edge sent with its result (protocol 3: only when it changed). */
  nextPlan?: Plan;
}

function offloadError(failure: OffloadOutcome): NonNullable<ClassifyResult['offloadError']> {
  if (failure.kind === 'error') {
    return {
      reason: failure.reason,
      message: failure.error,
      ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
    };
  }
  return {
    reason: failure.message.status,
    message: failure.message.error ?? `server answered ${failure.message.status}`,
    httpStatus: failure.httpStatus,
  };
}

/** A call that offloaded: the server's answer, or the device's (it won the race, or the offload failed). */
export function offloadedResult(manifest: ModelManifest, base: CallBase, o: OffloadedCall): ClassifyResult {
  const { race } = o;
  const server = race.server?.kind === 'result' ? race.server : undefined;
  const m = server?.message;
  const timings: ClassifyTimings = {
    deviceMs: base.deviceMs,
    localAfterSplitMs: race.local?.computeMs ?? 0,
    encodeMs: o.encodeMs,
    uploadMs: server
      ? Math.max(0, server.roundTripMs - server.message.serverMs - server.message.queueMs)
      : null,
    roundTripMs: server?.roundTripMs ?? null,
    serverMs: m?.serverMs ?? null,
    queueMs: m?.queueMs ?? null,
    totalMs: race.decidedAt - base.t0,
  };
  const common = {
    requestId: base.requestId,
    plan: base.plan,
    ...(base.schedule ? { schedule: base.schedule } : {}),
    bytesSent: o.bytesSent,
    ...(m ? { serverStatus: m.status } : {}),
    ...(o.nextPlan ? { nextPlan: o.nextPlan } : {}),
    blocks: {
      device: base.deviceBlocks,
      localAfterSplit: race.local?.blocksRun ?? 0,
      server: m ? m.blocksRun : null,
    },
    timings,
  };
  if (race.winner === 'server') {
    const a = race.server.message;
    return {
      ...common,
      label: a.label!,
      className: classOf(manifest, a.label!),
      confidence: a.confidence!,
      exit: a.exit!,
      decidedBy: 'server',
      cancelledServer: false,
    };
  }
  const local = race.local.outcome;
  return {
    ...common,
    label: local.label,
    className: classOf(manifest, local.label),
    confidence: local.confidence,
    exit: local.exit,
    decidedBy: race.server ? 'device-fallback' : 'device-race',
    cancelledServer: race.abandoned,
    ...(race.server ? { offloadError: offloadError(race.server) } : {}),
  };
}
