// Plans a client's next request at the edge: the same core scheduler the client runs offline, fed with the
// client's reported context (its online profiler), this request's observed server speed, the backend's load and
// the client's SLA. Used after every offload that asks for it (one that carries the SLA and context: protocol 3
// sends them only when the client wants a replan) and by POST /v1/plan. A result carries the plan only when it
// differs from the plan the offload ran, and its explanation (reason, estimate, context seen) only on `debug`.

import type { CodecSpec } from '../core/codec-spec.js';
import type { ModelManifest } from '../core/manifest.js';
import { costModel, offlineServerMs, ProfileMissingError } from '../core/plan-estimator.js';
import { schedulerContext, type BackendLoad } from '../core/scheduler-context.js';
import { decisionToPlan, schedule } from '../core/scheduler.js';
import { DEFAULT_SLA, type Sla } from '../core/sla.js';
import { specOf } from '../core/tensor-codec.js';
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
  const context = offload.context ?? {};
  if (result.status !== 'done' || result.serverMs <= 0 || !manifest.profile) return context;
  let offline: number;
  try {
    offline = offlineServerMs(costModel(manifest), offload.split, result.blocksRun, result.exit);
  } catch {
    return context;
  }
  if (!(offline > 0)) return context;
  const observed = result.serverMs / offline;
  const prior = context.serverScale;
  const serverScale =
    prior === undefined ? observed : SERVER_SCALE_ALPHA * observed + (1 - SERVER_SCALE_ALPHA) * prior;
  return { ...context, serverScale };
}

/** The plan for the client's next request, or undefined when the offload did not ask for one (no SLA). */
export function nextPlan(input: PlanInput): Plan | undefined {
  const { offload, result, manifest } = input;
  // No SLA, no replan: the client keeps the plan it runs.
  if (!offload.sla) return undefined;
  const load = input.load ?? result.load;
  return planFor({
    manifest,
    context: withObservedServer(input),
    sla: offload.sla,
    ...(load ? { load } : {}),
    serverAvailable: result.status !== 'failed',
  });
}

const sameCodec = (a: CodecSpec, b: CodecSpec) =>
  a.scheme === b.scheme &&
  (a.scheme !== 'quant' || (b.scheme === 'quant' && a.bits === b.bits && a.granularity === b.granularity));

/**
 * What of `plan` a result carries: nothing when it is the plan this offload ran (split, threshold, codec, exit);
 * otherwise the plan without its explanation (reason, estimate, context seen) unless the offload asked for `debug`.
 */
export function planForResult(offload: OffloadMessage, plan: Plan | undefined): Plan | undefined {
  if (!plan) return undefined;
  if (offload.debug) return plan;
  const unchanged =
    plan.split === offload.split &&
    plan.threshold === offload.threshold &&
    plan.exit === offload.exit &&
    sameCodec(plan.codec, specOf(offload.tensor.codec));
  if (unchanged) return undefined;
  const { reason: _reason, estimate: _estimate, seen: _seen, ...runnable } = plan;
  return runnable;
}
