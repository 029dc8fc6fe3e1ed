// The offload line fixed + bytes × perByte: a slope only when sizes differ enough, medians against outliers.

import { describe, expect, it } from 'vitest';
import { OffloadCostFit } from '../../core/offload-cost-fit.js';

describe('OffloadCostFit', () => {
  const hold = { perByte: 0.001, fixedMs: 20, smallBytes: 2048 };

  it('has nothing before an offload; while sizes are alike, large offloads measure the slope', () => {
    const f = new OffloadCostFit();
    expect(f.fit(hold)).toBeUndefined();
    for (const [bytes, ms] of [
      [4000, 60],
      [4100, 62],
      [3900, 49],
    ])
      f.add(bytes!, ms!, hold);
    expect(f.slope()).toBeUndefined(); // 4100 / 3900 < 2
    // The fixed part held at 20 ms; the slope the median of (ms − 20) / bytes: 40 / 4000.
    expect(f.fit(hold)).toEqual({ fixedMs: 20, perByte: 0.01 });
  });

  it('while sizes are alike, small offloads measure the fixed part at the held slope', () => {
    const f = new OffloadCostFit();
    for (const ms of [30, 31, 90]) f.add(1000, ms, hold);
    expect(f.fit(hold)).toEqual({ fixedMs: 31 - 1000 * 0.001, perByte: undefined });
  });

  it('fits the slope from pairs twice apart in size and ignores bad samples', () => {
    const f = new OffloadCostFit({ window: 6 });
    f.add(Number.NaN, 3, hold);
    f.add(100, -1, hold);
    for (const [bytes, ms] of [
      [1000, 11],
      [2000, 12],
      [4000, 14],
      [8000, 18],
    ])
      f.add(bytes!, ms!, hold);
    expect(f.size).toBe(4);
    expect(f.slope()).toBeCloseTo(0.001, 12);
    expect(f.fit({ ...hold, perByte: 1 })).toEqual({
      fixedMs: 10,
      perByte: expect.closeTo(0.001, 12) as number,
    });
  });

  it('forgets offloads beyond its window, and never fits a negative slope or fixed cost', () => {
    const f = new OffloadCostFit({ window: 3, minPairs: 1 });
    for (const [bytes, ms] of [
      [1000, 500],
      [1000, 40],
      [4000, 30],
      [8000, 20],
    ])
      f.add(bytes!, ms!, hold);
    expect(f.size).toBe(3);
    expect(f.slope()).toBe(1e-7); // faster with more bytes: noise, floored
    expect(f.fit({ ...hold, perByte: 0 })!.fixedMs).toBeGreaterThanOrEqual(0);
  });

  it('restarts from three offloads in a row far off the line (a real change), not from one or two', () => {
    const f = new OffloadCostFit();
    for (let i = 0; i < 8; i++) f.add(4000, 24, hold); // 20 ms + 4000 × 0.001
    f.add(4000, 400, hold);
    f.add(4000, 24, hold); // one stall: kept, outvoted
    expect(f.size).toBe(10);
    expect(f.fit(hold)!.perByte).toBeCloseTo(0.001, 12);
    f.add(4000, 420, hold);
    f.add(4000, 421, hold);
    expect(f.size).toBe(12); // two in a row: not yet
    f.add(4000, 419, hold);
    expect(f.size).toBe(3); // the link got 100× slower
    expect(f.fit(hold)!.perByte).toBeCloseTo(0.1, 12);
  });

  it('caps a held fixed part at the fastest offload', () => {
    const f = new OffloadCostFit();
    for (const ms of [30, 32, 31]) f.add(4000, ms, hold);
    expect(f.fit({ ...hold, fixedMs: 60 })).toEqual({ fixedMs: 30, perByte: 1 / 4000 });
  });
});
