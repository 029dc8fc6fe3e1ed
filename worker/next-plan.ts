// Plans a client's next request at the edge: the same core scheduler the client runs offline, fed with the
// client's reported context (its online profiler), this request's observed server speed, the backend's load and
// the client's SLA. Used after every offload that carries an SLA (the plan rides on the result; without an SLA the
// client's own plan is echoed) and by POST /v1/plan.

import type { CodecSpec } from '../core/codec-spec.js';
import type { ModelManifest } from '../core/manifest.js';
import { costModel, offlineServerMs, ProfileMissingError } from '../core/plan-estimator.js';
import { schedulerContext, type BackendLoad } from '../core/scheduler-context.js';
import { decisionToPlan, schedule } from '../core/scheduler.js';
import { DEFAULT_SLA, type Sla } from '../core/sla.js';
import type { ClientContext, OffloadMessage, Plan, ResultMessage } from '../core/wire.js';

/** Weight of this request's own server-speed observation against the client's reported average. */
const SERVER_SCALE_ALPHA = 0.5;

export interface PlanInput {
  offload: OffloadMessage;
  result: ResultMessage;
  manifest: ModelManifest;
  /** Backend load when it answered (from the result, or the DO's reply). */
  load?: BackendLoad;
}

export interface PlanQuery {
  manifest: ModelManifest;
  context: ClientContext;
  sla?: Sla;
  load?: BackendLoad;
  serverAvailable: boolean;
  /** A client that runs nothing locally (POST /v1/classify): split 0 only. */
  serverOnly?: boolean;
}

/** A plan from context + SLA; models without a profile get a plan that says why it cannot schedule. */
export function planFor(q: PlanQuery): Plan {
  try {
    const decision = schedule({
      manifest: q.manifest,
      sla: q.sla ?? DEFAULT_SLA,
      context: schedulerContext(q.context, q.load, q.serverAvailable),
      ...(q.serverOnly ? { serverOnly: true } : {}),
    });
    return decisionToPlan(decision);
  } catch (e) {
    if (!(e instanceof ProfileMissingError)) throw e;
    return {
      split: q.serverOnly ? 0 : q.manifest.blocks.length,
      threshold: 1,
      codec: { scheme: 'fp32' },
      reason: `no scheduling possible (${e.message}); ${q.serverOnly ? 'whole model on the server' : 'device-only'}`,
    };
  }
}

/** The client's context with this request's server-speed observation folded in. */
function withObservedServer({ offload, result, manifest }: PlanInput): ClientContext {
  if (result.status !== 'done' || result.serverMs <= 0 || !manifest.profile) return offload.context;
  let offline: number;
  try {
    offline = offlineServerMs(costModel(manifest), offload.split, result.blocksRun, result.exit);
  } catch {
    return offload.context;
  }
  if (!(offline > 0)) return offload.context;
  const observed = result.serverMs / offline;
  const prior = offload.context.serverScale;
  const serverScale =
    prior === undefined ? observed : SERVER_SCALE_ALPHA * observed + (1 - SERVER_SCALE_ALPHA) * prior;
  return { ...offload.context, serverScale };
}

/** The codec spec (what a plan asks for) of the header an offload carried. */
function specOf(h: OffloadMessage['tensor']['codec']): CodecSpec {
  return h.scheme === 'quant'
    ? { scheme: 'quant', bits: h.bits, granularity: h.granularity }
    : { scheme: h.scheme };
}

export function nextPlan(input: PlanInput): Plan {
  const { offload, result, manifest } = input;
  if (!offload.sla) {
    // No SLA, no steering: a client that plans for itself gets its own plan back.
    return {
      split: offload.split,
      threshold: offload.threshold,
      codec: specOf(offload.tensor.codec),
      reason: 'no SLA in the offload: echo of the client plan',
    };
  }
  const load = input.load ?? result.load;
  return planFor({
    manifest,
    context: withObservedServer(input),
    ...(offload.sla ? { sla: offload.sla } : {}),
    ...(load ? { load } : {}),
    serverAvailable: result.status !== 'failed',
  });
}
