// The systems compared in the evaluation, all run by the same client library, the same scheduler engine
// (core/scheduling-policies.ts) and the same online profiler: SPINN and its baselines differ only in the policy
// named in the SLA. Every offloading system gets the same local options as SPINN (issue 16, item 1): 'hedge' (the
// device starts its remaining blocks once the server is 1.5× overdue or has failed; the client's default) and,
// reported beside it, 'on-failure' (the device computes only after the offload failed: no hedge, but the same
// local fallback). The two probes run fixed plans, no policy: they measure the component costs of the oracle.

import type { LocalContinuation } from '../../client/index.js';
import type { Policy, SlaInput } from '../../core/sla.js';

export interface System {
  /** Name in tables, e.g. 'server-only' or 'server-only (no hedge)'. */
  id: string;
  policy: Policy;
  continuation: LocalContinuation;
}

/** Policies that may offload (they get the hedge and no-hedge variants). */
export const OFFLOADING: Policy[] = ['spinn', 'server-only', 'neurosurgeon', 'edgent', 'spinn-no-exits'];
const ON_DEVICE: Policy[] = ['device-only', 'device-exits'];

export const HEDGED: System[] = [
  ...OFFLOADING.map((policy) => ({ id: policy, policy, continuation: 'hedge' as const })),
  ...ON_DEVICE.map((policy) => ({ id: policy, policy, continuation: 'on-failure' as const })),
];
export const NO_HEDGE: System[] = OFFLOADING.map((policy) => ({
  id: `${policy} (no hedge)`,
  policy,
  continuation: 'on-failure' as const,
}));

export const SPINN = 'spinn';

/** Component-cost probes of the oracle: fixed plans, no scheduler (see oracle.ts). */
export type ProbeId = 'probe: device' | 'probe: offload';
export const PROBES: ProbeId[] = ['probe: device', 'probe: offload'];

export type SlaKind = 'latency' | 'serverCost';

/**
 * The SLA every system gets at a point: a latency deadline and an accuracy floor (Edgent's formulation needs both),
 * minimising latency ('latency') or server cost ('serverCost') among the plans that meet them.
 */
export function slaFor(policy: Policy, kind: SlaKind, deadlineMs: number, accuracyLossPp: number): SlaInput {
  return {
    policy,
    limits: { maxLatencyMs: deadlineMs, maxAccuracyLossPp: accuracyLossPp },
    priority: kind === 'latency' ? ['latency', 'accuracy'] : ['serverCost', 'latency', 'accuracy'],
  };
}
