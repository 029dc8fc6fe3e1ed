// SPINN's objectives and policies, the SLA's error and the objective order: everything about SLAs that is not its
// zod schema (core/sla.ts), so the scheduler and the client's bundle can use them without pulling zod in.

/** SPINN's objectives. Each is turned into a "smaller is better" metric by the scheduler. */
export const OBJECTIVES = ['latency', 'throughput', 'serverCost', 'deviceCost', 'accuracy'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** Scheduling policies: SPINN itself and the baselines it is compared with, all run by the same engine. */
export const POLICIES = [
  'spinn',
  'spinn-no-exits',
  'device-only',
  'device-exits',
  'server-only',
  'neurosurgeon',
  'edgent',
] as const;
export type Policy = (typeof POLICIES)[number];

export class SlaError extends Error {
  override readonly name = 'SlaError';
  constructor(readonly issues: string[]) {
    super(`invalid SLA: ${issues.join('; ')}`);
  }
}

/** The full objective order: the SLA's priority, then the remaining objectives in default order. */
export function objectiveOrder(priority: readonly Objective[]): Objective[] {
  return [...priority, ...OBJECTIVES.filter((o) => !priority.includes(o))];
}
