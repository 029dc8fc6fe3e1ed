// The one owner of "which plan does this call run": the plan configured on the client, the scheduled plan (from
// the edge, or made on the device when the edge cannot be reached) and a call's own plan, merged in one place.
// Protocol 3 results carry a plan only when it changed, so the scheduled plan simply stays until one arrives.

import type { ModelManifest } from '../core/manifest.js';
import type { Plan } from '../core/wire.js';
import { DEFAULT_THRESHOLD, type ExecutionPlan } from './client-options.js';

export type PlanSource = 'edge' | 'local';

/** Why `plan` cannot run on `manifest`, or undefined when it can. */
export function planProblem(plan: ExecutionPlan, manifest: ModelManifest): string | undefined {
  const n = manifest.blocks.length;
  if (!Number.isInteger(plan.split) || plan.split < 0 || plan.split > n) {
    return `split must be an integer in [0, ${n}] (${n} = device-only), got ${plan.split}`;
  }
  if (plan.split < n && !manifest.splits.some((s) => s.split === plan.split)) {
    return `model ${manifest.id} cannot be split after ${plan.split} blocks (see manifest.splits)`;
  }
  if (!Number.isFinite(plan.threshold) || plan.threshold < 0 || plan.threshold > 1) {
    return `threshold must be in [0, 1], got ${plan.threshold}`;
  }
  if (
    plan.exit !== undefined &&
    !(Number.isInteger(plan.exit) && plan.exit >= 0 && plan.exit < manifest.exits.length)
  ) {
    return `exit must be an exit index in [0, ${manifest.exits.length - 1}], got ${plan.exit}`;
  }
  return undefined;
}

const executionPlanOf = (p: Plan): ExecutionPlan => ({
  split: p.split,
  threshold: p.threshold,
  codec: p.codec,
  ...(p.exit !== undefined ? { exit: p.exit } : {}),
});

export class PlanResolver {
  /** The scheduler's plan in force and where it came from (with an SLA); undefined before the first. */
  scheduled: { plan: Plan; source: PlanSource } | undefined;

  constructor(
    private readonly configured: Partial<ExecutionPlan> | undefined,
    /** Whether scheduled plans replace the configured one (the client's `followEdgePlan`). */
    private readonly follow: boolean,
  ) {}

  /**
   * A plan from the edge or the local scheduler; it stays until the next one. With `manifest`, a plan the model
   * cannot run is ignored (the one in force stays).
   */
  adopt(plan: Plan | null | undefined, source: PlanSource, manifest?: ModelManifest): void {
    if (!plan || (manifest && planProblem(executionPlanOf(plan), manifest))) return;
    this.scheduled = { plan, source };
  }

  /** The plan a call without its own runs: the scheduled plan when followed and runnable, else the configured. */
  current(manifest: ModelManifest): ExecutionPlan {
    const s = this.scheduled?.plan;
    if (s && this.follow && !planProblem(executionPlanOf(s), manifest)) return executionPlanOf(s);
    return {
      split: this.configured?.split ?? manifest.blocks.length,
      threshold: this.configured?.threshold ?? DEFAULT_THRESHOLD,
      ...(this.configured?.codec ? { codec: this.configured.codec } : {}),
    };
  }

  /**
   * The plan of one call: its own fields over the current plan. A plan's codec belongs to its split (an explicit
   * split without a codec gets the accuracy-aware choice), and a truncation to the plan that set it. Throws a
   * RangeError naming the problem when the result cannot run.
   */
  forCall(manifest: ModelManifest, own: Partial<ExecutionPlan> | undefined): ExecutionPlan {
    const current = this.current(manifest);
    const plan: ExecutionPlan = {
      split: own?.split ?? current.split,
      threshold: own?.threshold ?? current.threshold,
    };
    const codec = own?.codec ?? (own?.split === undefined ? current.codec : undefined);
    if (codec) plan.codec = codec;
    const exit = own ? own.exit : current.exit;
    if (exit !== undefined) plan.exit = exit;
    const problem = planProblem(plan, manifest);
    if (problem) throw new RangeError(`SpinnClient.classify: ${problem}`);
    return plan;
  }
}
