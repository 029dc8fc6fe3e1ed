// The systems compared in the evaluation, all run by the same client library and the same scheduler engine
// (core/scheduling-policies.ts): SPINN and its baselines differ only in the policy named in the SLA — and in what the
// device does after offloading. SPINN keeps computing locally once the server is overdue or has failed (the client's
// default, 'hedge'; see client/race.ts); the baselines are plain offloading systems that compute locally only when
// the offload failed ('on-failure'), so they still answer.

import type { Policy, SlaInput } from '../../core/sla.js';
import type { DeviceJob } from './device-protocol.js';

export const EVAL_POLICIES: Policy[] = [
  'spinn',
  'device-only',
  'server-only',
  'neurosurgeon',
  'edgent',
  'spinn-no-exits',
];

export const BASELINES: Policy[] = EVAL_POLICIES.filter((p) => p !== 'spinn');

export const continuationOf = (p: Policy): DeviceJob['localContinuation'] =>
  p === 'spinn' ? 'hedge' : 'on-failure';

/** SLA of experiments 1, 2 and 5: minimise latency within an accuracy floor (and a deadline, when given). */
export function latencySla(policy: Policy, accuracyLossPp: number, maxLatencyMs?: number): SlaInput {
  return {
    policy,
    limits: { maxAccuracyLossPp: accuracyLossPp, ...(maxLatencyMs ? { maxLatencyMs } : {}) },
    priority: ['latency', 'accuracy'],
  };
}

/** SLA of experiment 3: the most accurate plan within a latency deadline, then the cheapest for the server. */
export function accuracySla(policy: Policy, maxLatencyMs: number): SlaInput {
  return { policy, limits: { maxLatencyMs }, priority: ['accuracy', 'serverCost', 'latency'] };
}
