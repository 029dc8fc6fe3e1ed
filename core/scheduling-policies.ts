// SPINN and its baselines as policies of one engine: each policy only narrows the candidate set, overrides the
// objectives or hides part of the context, then the same estimator and lexicographic scheduler decide.
//   spinn           every split × threshold × bit-width, the SLA as given
//   spinn-no-exits  every split × bit-width, threshold 1 (only the final classifier answers)
//   device-only     the whole model on the device, no early exits
//   device-exits    the whole model on the device with early exits at the best threshold within the SLA (SDN /
//                   BranchyNet on the device: what SPINN's all-device plan must beat)
//   server-only     the raw input to the server, no early exits
//   neurosurgeon    best single split for latency (load-aware), no early exits, a lossless activation (as
//                   published: no quantisation), SLA limits ignored
//   edgent          split + one exit (the model cut there) maximising accuracy within the SLA's latency deadline
//                   and accuracy floor (it is deadline-driven by design); it sees the live link, not server load

import type { ThresholdProfile } from './manifest.js';
import type { CostModel } from './plan-estimator.js';
import type { SchedulerContext } from './scheduler-context.js';
import type { Objective, Policy, Sla, SlaLimits } from './sla.js';

export interface PolicySpec {
  /** 'all': every profiled threshold; 'none': threshold 1 only. */
  thresholds: 'all' | 'none';
  /** Which splits: all, device-only, or server-only (split 0). */
  splits: 'all' | 'device' | 'server';
  /** Edgent-style truncated plans (split × exit) instead of threshold plans. */
  truncated: boolean;
  /** Which activation codecs: every profiled one, or only exact ones (fp32, lossless, u8 pixels). */
  codecs: 'all' | 'lossless';
  /** Objective order to use instead of the SLA's. */
  priority?: Objective[];
  /** Which of the SLA's limits apply. */
  limits: (sla: SlaLimits) => SlaLimits;
  /** Whether the policy sees the server's load (Edgent does not). */
  loadAware: boolean;
}

const all = (l: SlaLimits) => l;

export const POLICY_SPECS: Record<Policy, PolicySpec> = {
  spinn: { thresholds: 'all', splits: 'all', truncated: false, codecs: 'all', limits: all, loadAware: true },
  'spinn-no-exits': {
    thresholds: 'none',
    splits: 'all',
    truncated: false,
    codecs: 'all',
    limits: all,
    loadAware: true,
  },
  'device-only': {
    thresholds: 'none',
    splits: 'device',
    truncated: false,
    codecs: 'all',
    limits: all,
    loadAware: true,
  },
  'device-exits': {
    thresholds: 'all',
    splits: 'device',
    truncated: false,
    codecs: 'all',
    limits: all,
    loadAware: true,
  },
  'server-only': {
    thresholds: 'none',
    splits: 'server',
    truncated: false,
    codecs: 'all',
    limits: all,
    loadAware: true,
  },
  neurosurgeon: {
    thresholds: 'none',
    splits: 'all',
    truncated: false,
    codecs: 'lossless',
    priority: ['latency'],
    limits: () => ({}),
    loadAware: true,
  },
  edgent: {
    thresholds: 'none',
    splits: 'all',
    truncated: true,
    codecs: 'all',
    priority: ['accuracy', 'latency'],
    // The deadline and the accuracy floor; throughput and cost limits are not part of Edgent's formulation.
    limits: ({ maxLatencyMs, minAccuracy, maxAccuracyLossPp }) => ({
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
      ...(minAccuracy !== undefined ? { minAccuracy } : {}),
      ...(maxAccuracyLossPp !== undefined ? { maxAccuracyLossPp } : {}),
    }),
    loadAware: false,
  },
};

/** The threshold profile with early exits disabled (threshold 1), from the profile or built from the final exit. */
export function noExitProfile(m: CostModel): ThresholdProfile {
  const found = m.thresholds.find((t) => t.threshold >= 1);
  if (found) return found;
  const n = m.exitAfter.length;
  return {
    threshold: 1,
    exitFraction: m.exitAfter.map((_, i) => (i === n - 1 ? 1 : 0)),
    accuracy: m.exitAccuracy[n - 1] ?? 0,
  };
}

/** The context a policy sees (Edgent plans as if the server were idle). */
export function policyContext(spec: PolicySpec, ctx: SchedulerContext): SchedulerContext {
  return spec.loadAware ? ctx : { ...ctx, serverLoad: 1 };
}

/** The objective order and limits a policy optimises under. */
export function policyObjectives(spec: PolicySpec, sla: Sla): { priority: Objective[]; limits: SlaLimits } {
  return { priority: spec.priority ?? sla.priority, limits: spec.limits(sla.limits) };
}
