import { describe, expect, it } from 'vitest';
import type { ExitTable } from '../../../tools/profile/exit-table.js';
import { exitAccuracies, exitOf, thresholdProfile } from '../../../tools/profile/threshold-profile.js';

// Three samples, three exits (the last final). Hand-computed expectations below.
const table: ExitTable = {
  samples: 3,
  exits: 3,
  //            s0: e0 e1 e2   s1: e0 e1 e2   s2: e0 e1 e2
  predicted: new Uint8Array([1, 1, 1, 0, 2, 2, 3, 3, 4]),
  confidence: new Float32Array([0.95, 0.99, 1, 0.4, 0.8, 0.9, 0.2, 0.3, 0.6]),
  truth: new Uint8Array([1, 2, 4]),
};

describe('threshold profile', () => {
  it('replays the exit rule per sample', () => {
    expect(exitOf(table, 0, 0.9)).toBe(0);
    expect(exitOf(table, 1, 0.9)).toBe(2);
    expect(exitOf(table, 1, 0.5)).toBe(1);
    expect(exitOf(table, 0, 1)).toBe(2); // threshold 1: no early exit, even at confidence 1
  });

  it('gives exit fractions and accuracy per threshold', () => {
    const [t5, t9, t1] = thresholdProfile(table, [0.5, 0.9, 1]);
    expect(t5!.exitFraction).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(t5!.accuracy).toBeCloseTo(3 / 3); // s0 exit0 ok (1), s1 exit1 -> 2 ok, s2 final -> 4 ok
    expect(t9!.exitFraction).toEqual([1 / 3, 0, 2 / 3]);
    expect(t9!.accuracy).toBeCloseTo(3 / 3);
    expect(t1!.exitFraction).toEqual([0, 0, 1]);
    expect(exitAccuracies(table)).toEqual([1 / 3, 2 / 3, 1]);
  });
});
