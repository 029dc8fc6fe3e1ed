// The online profiler's moving averages and the server-time inference T_response − (L + D/B), by hand.

import { describe, expect, it } from 'vitest';
import { OnlineProfiler } from '../../core/online-profiler.js';
import { DEFAULT_CONTEXT, schedulerContext } from '../../core/scheduler-context.js';

describe('OnlineProfiler', () => {
  it('device scale factor is the moving average of T_real / T_offline', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeDevice(20, 10);
    expect(p.deviceScale).toBe(2);
    p.observeDevice(40, 10);
    expect(p.deviceScale).toBe(3);
  });

  it('small transfers measure latency, large ones bandwidth after latency', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(100, 10);
    expect(p.rttMs).toBe(10);
    p.observeTransfer(10_000, 30); // (30 − 10) ms for 10 kB → 0.002 ms/B → 500 kB/s
    expect(p.bandwidthBps).toBeCloseTo(500_000, 6);
    p.observeTransfer(10_000, 10); // nothing left after L: floored at 0.05 ms → averaged with the first
    expect(p.bandwidthBps).toBeCloseTo(1000 / ((0.002 + 0.000005) / 2), 3);
  });

  it('offloads of one size: small ones measure O beyond L, large ones the bandwidth', () => {
    const small = new OnlineProfiler({ alpha: 0.5 });
    small.observeTransfer(500, 20); // a plan request: L = 20
    const perByte = 1000 / DEFAULT_CONTEXT.bandwidthBps; // not measured yet: the scheduler's default
    for (const ms of [45, 44, 300]) small.observeOffload(1000, ms);
    expect(small.rttMs).toBe(20);
    expect(small.offloadOverheadMs).toBeCloseTo(45 - 1000 * perByte - 20, 9); // median 45: the stall is ignored
    expect(small.bandwidthBps).toBeUndefined();
    small.observeTransfer(500, 30); // the link got slower: L moves, the fixed part L + O stays
    expect(small.rttMs).toBe(25);
    expect(small.rttMs! + small.offloadOverheadMs!).toBeCloseTo(45 - 1000 * perByte, 9);

    const large = new OnlineProfiler({ alpha: 0.5 });
    large.observeTransfer(500, 20);
    for (const ms of [60, 58, 62]) large.observeOffload(4000, ms); // (60 − 20) ms for 4 kB
    expect(large.bandwidthBps).toBeCloseTo(100_000, 6);
    expect(large.offloadOverheadMs).toBe(0);
  });

  it('offloads of different sizes fit fixed + bytes / B, and a minority of outliers does not move it', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(500, 20);
    // 28 ms fixed + 0.002 ms/B (500 kB/s), at 1, 4 and 9 kB; then one first-connection stall and one fast read.
    for (const [bytes, ms] of [
      [1000, 30],
      [4000, 36],
      [9000, 46],
      [1000, 400],
      [4000, 36],
      [9000, 5],
      [1000, 30],
      [9000, 46],
    ] as const)
      p.observeOffload(bytes, ms);
    expect(p.bandwidthBps).toBeCloseTo(500_000, 0);
    expect(p.offloadOverheadMs).toBeCloseTo(28 - 20, 9);
    expect(p.context()).toMatchObject({ rttMs: 20, offloadOverheadMs: 8 });
  });

  it('lets offloads correct an RTT that overstates their fixed cost, down to L + O = 0', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(500, 60); // a plan request read late by a busy device: L = 60
    for (const [bytes, ms] of [
      [1000, 37],
      [5000, 45],
      [1000, 37],
      [5000, 45],
    ] as const)
      p.observeOffload(bytes, ms); // 35 fixed + 0.002 ms/B
    expect(p.offloadOverheadMs).toBeCloseTo(-25, 9);
    expect(schedulerContext({ rttMs: 10, offloadOverheadMs: -25 }).offloadOverheadMs).toBe(-10);
  });

  it('an offload before any plan request stands in for L', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeOffload(200, 30);
    expect(p.rttMs).toBe(30);
    expect(p.bandwidthBps).toBeUndefined();
  });

  it('ignores negative and non-finite measurements', () => {
    const p = new OnlineProfiler();
    p.observeOffload(-1, 10);
    p.observeOffload(100, Number.NaN);
    p.observeTransfer(100, -5);
    expect(p.context()).toEqual({});
  });

  it('infers server time from the response when the server reports none', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(100, 10);
    p.observeTransfer(10_000, 30);
    expect(p.inferServerMs(50, 10_000)).toBeCloseTo(20, 9); // 50 − (10 + 10 000 · 0.002)
    p.observeServer(10, undefined, { ms: 50, bytes: 10_000 });
    expect(p.serverScale).toBeCloseTo(2, 9);
    p.observeServer(10, 40); // reported: 4×, averaged
    expect(p.serverScale).toBeCloseTo(3, 9);
    expect(p.context()).toEqual({ deviceScale: undefined, serverScale: 3, rttMs: 10, bandwidthBps: 500_000 });
  });
});
