import { describe, expect, it } from 'vitest';
import { shouldExit, softmax, top1 } from '../../core/exit-policy.js';

describe('exit rule', () => {
  it('softmax is stable for large logits and sums to 1', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(top1(p).label).toBe(1);
  });

  it('threshold 1 disables early exits even at saturated confidence', () => {
    expect(shouldExit(1, 1, false)).toBe(false);
    expect(shouldExit(1, 1, true)).toBe(true);
    expect(shouldExit(0.95, 0.9, false)).toBe(true);
    expect(shouldExit(0.85, 0.9, false)).toBe(false);
    expect(shouldExit(0.1, 0, false)).toBe(true);
  });
});
