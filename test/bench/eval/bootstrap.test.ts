// The bootstrap behind every confidence interval of the report: deterministic for a seed, centred on the
// statistic, wider when repetitions disagree, and paired across systems measured on the same images.

import { describe, expect, it } from 'vitest';
import { clusterBootstrapCi, pairedBootstrapCi } from '../../../bench/eval/bootstrap.js';
import { seededRandom as mulberry32 } from '../../../tools/exits/softmax-regression.js';
import { mean, p95, quantile } from '../../../bench/eval/stats.js';

describe('clusterBootstrapCi', () => {
  it('is a point when every value is equal', () => {
    expect(
      clusterBootstrapCi(
        [
          [5, 5],
          [5, 5],
          [5, 5],
        ],
        mean,
      ),
    ).toEqual([5, 5]);
  });

  it('contains the mean and lies within the data', () => {
    const rand = mulberry32(7);
    const data = Array.from({ length: 5 }, () => Array.from({ length: 20 }, () => 10 + 10 * rand()));
    const [lo, hi] = clusterBootstrapCi(data, mean);
    const m = mean(data.flat());
    expect(lo).toBeLessThan(m);
    expect(hi).toBeGreaterThan(m);
    expect(lo).toBeGreaterThan(10);
    expect(hi).toBeLessThan(20);
  });

  it('is wider when the repetitions disagree than when requests vary within them only', () => {
    // Same pooled values; in `between` each repetition sits at its own level.
    const within = Array.from({ length: 5 }, () => [10, 20, 30, 40, 50]);
    const between = [10, 20, 30, 40, 50].map((v) => Array<number>(5).fill(v));
    const w = clusterBootstrapCi(within, mean);
    const b = clusterBootstrapCi(between, mean);
    expect(b[1] - b[0]).toBeGreaterThan(w[1] - w[0]);
  });

  it('is reproducible for a seed', () => {
    const data = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    expect(clusterBootstrapCi(data, p95, { seed: 3 })).toEqual(clusterBootstrapCi(data, p95, { seed: 3 }));
  });
});

describe('pairedBootstrapCi', () => {
  it('a system against an exact multiple of itself gives that ratio with no width (paired draws)', () => {
    const rand = mulberry32(11);
    const a = Array.from({ length: 5 }, () => Array.from({ length: 10 }, () => 20 + 30 * rand()));
    const b = a.map((r) => r.map((x) => 2 * x));
    const [lo, hi] = pairedBootstrapCi([a, b], (s) => s[0]! / s[1]!, mean);
    expect(lo).toBeCloseTo(0.5, 12);
    expect(hi).toBeCloseTo(0.5, 12);
  });

  it('takes the best of several baselines in every draw', () => {
    const spinn = [
      [10, 10],
      [10, 10],
    ];
    const slow = [
      [40, 40],
      [40, 40],
    ];
    const fast = [
      [20, 20],
      [20, 20],
    ];
    const ci = pairedBootstrapCi([spinn, slow, fast], (s) => s[0]! / Math.min(...s.slice(1)), mean);
    expect(ci).toEqual([0.5, 0.5]);
  });

  it('refuses systems measured on different cells', () => {
    expect(() => pairedBootstrapCi([[[1, 2]], [[1]]], (s) => s[0]!, mean)).toThrow(/same repetitions/);
  });
});

describe('quantile', () => {
  it('is the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.95)).toBe(96);
    expect(quantile(xs, 0.5)).toBe(51);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
