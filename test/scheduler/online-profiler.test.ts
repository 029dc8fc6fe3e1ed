// The online profiler's moving averages and the server-time inference T_response − (L + D/B), by hand.

import { describe, expect, it } from 'vitest';
import { OnlineProfiler } from '../../core/online-profiler.js';
import { schedulerContext } from '../../core/scheduler-context.js';

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

  it('offloads measure their overhead beyond L, and keep L for the link itself', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(500, 20); // a plan request: L = 20
    p.observeOffload(1000, 60); // small offload: O = 60 − 20 − 1000 · 0 (no B yet) = 40
    expect(p.rttMs).toBe(20);
    expect(p.offloadOverheadMs).toBe(40);
    p.observeOffload(20_000, 100); // large: B from what L and O leave: (100 − 20 − 40) / 20 000 = 0.002 ms/B
    expect(p.bandwidthBps).toBeCloseTo(500_000, 6);
    expect(p.offloadOverheadMs).toBe(40);
    p.observeOffload(1000, 34); // small: 34 − 20 − 1000 · 0.002 = 12 → averaged with 40
    expect(p.offloadOverheadMs).toBeCloseTo(26, 9);
    p.observeTransfer(500, 30); // the link got slower: L moves, O stays
    expect(p.rttMs).toBe(25);
    expect(p.offloadOverheadMs).toBeCloseTo(26, 9);
    expect(p.context()).toMatchObject({ rttMs: 25, offloadOverheadMs: 26, bandwidthBps: 500_000 });
  });

  it('lets offloads correct an RTT that overstates their fixed cost, down to L + O = 0', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeTransfer(500, 60); // a plan request read late by a busy device: L = 60
    p.observeOffload(1000, 35); // the offload's fixed part really is 35: O = −25
    expect(p.offloadOverheadMs).toBe(-25);
    expect(p.rttMs! + p.offloadOverheadMs!).toBe(35);
    p.observeOffload(1000, 0); // never below −L
    expect(p.offloadOverheadMs).toBe((-25 - 60) / 2);
    expect(schedulerContext({ rttMs: 10, offloadOverheadMs: -25 }).offloadOverheadMs).toBe(-10);
  });

  it('a large first offload measures bandwidth before any overhead is known', () => {
    const p = new OnlineProfiler({ alpha: 0.5 });
    p.observeOffload(200, 30); // no L yet: the offload is a plain small transfer → L = 30
    expect(p.rttMs).toBe(30);
    expect(p.offloadOverheadMs).toBeUndefined();
    p.observeOffload(10_000, 50); // no B, no O: B = (50 − 30) / 10 000
    expect(p.bandwidthBps).toBeCloseTo(500_000, 6);
    expect(p.offloadOverheadMs).toBeUndefined();
    p.observeOffload(10_000, 60); // B known, O not: O = 60 − 30 − 20 = 10
    expect(p.offloadOverheadMs).toBeCloseTo(10, 9);
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
