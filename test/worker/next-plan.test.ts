// Protocol 3's plan on a result (worker/next-plan.ts planForResult): nothing when the replan gives the plan the
// offload ran, the runnable plan without its explanation when it changed, everything on debug.

import { describe, expect, it } from 'vitest';
import { encodeTensor } from '../../core/tensor-codec.js';
import type { Plan } from '../../core/wire.js';
import { planForResult } from '../../worker/next-plan.js';
import { offload } from '../support/wire-helpers.js';

const q4 = encodeTensor(new Float32Array(32).fill(0.5), [1, 2, 4, 4], {
  scheme: 'quant',
  bits: 4,
  granularity: 'tensor',
});
const ran = offload({ split: 1, threshold: 0.8, tensor: q4 });
const explained: Plan = {
  split: 1,
  threshold: 0.8,
  codec: { scheme: 'quant', bits: 4, granularity: 'tensor' },
  reason: 'the best plan',
  policy: 'spinn',
  feasible: true,
};

describe('planForResult', () => {
  it('sends nothing when the plan did not change', () => {
    expect(planForResult(ran, explained)).toBeUndefined();
    expect(planForResult(ran, undefined)).toBeUndefined();
  });

  it('sends a changed plan without its reason, and any plan with it on debug', () => {
    for (const change of [
      { split: 2 },
      { threshold: 0.9 },
      { exit: 1 },
      { codec: { scheme: 'fp32' } as const },
    ]) {
      const p = planForResult(ran, { ...explained, ...change });
      expect(p).toMatchObject(change);
      expect(p).not.toHaveProperty('reason');
    }
    expect(planForResult({ ...ran, debug: true }, explained)).toEqual(explained);
  });
});
