// The online profiler's moving averages and the server-time inference T_response − (L + D/B), by hand.

import { describe, expect, it } from 'vitest';
import { OnlineProfiler } from '../../core/online-profiler.js';

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
