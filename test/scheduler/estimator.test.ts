// The estimator against numbers worked out by hand on the tiny model (see support/tiny-manifest.ts).

import { describe, expect, it } from 'vitest';
import { codecOptionsBySplit } from '../../core/codec-options.js';
import { costModel, estimatePlan, estimateTruncated, offlineServerMs } from '../../core/plan-estimator.js';
import { schedulerContext, serverLoadFactor, type SchedulerContext } from '../../core/scheduler-context.js';
import { q8Codec, tinyManifest } from './support/tiny-manifest.js';

const m = costModel(tinyManifest());
const thr = (x: number) => m.thresholds.find((t) => t.threshold === x)!;
const fp32 = (split: number) => m.splits.find((s) => s.split === split)!.options[0]!;
// SF 2, 1000 B/s (1 ms per byte), RTT 10 ms, server at profile speed and idle.
const ctx: SchedulerContext = {
  deviceScale: 2,
  bandwidthBps: 1000,
  rttMs: 10,
  offloadOverheadMs: 0,
  serverScale: 1,
  serverLoad: 1,
  serverAvailable: true,
};

describe('estimatePlan', () => {
  it('split 2, threshold 0.5: exit 0 on the device, the final exit on the server', () => {
    // device: 0.6·(1+2+0.5) + 0.4·3.5 = 3.5 ms offline, ×2 = 7; server: 0.4·(0.3+0.4+0.1) = 0.32;
    // link: 0.4·50 bytes·1 ms = 20; latency 7 + 0.4·10 + 20 + 0.32 = 31.32; throughput 1000/max(7,20,0.32).
    const e = estimatePlan(m, 2, thr(0.5), fp32(2), ctx);
    expect(e.deviceCostMs).toBeCloseTo(7, 9);
    expect(e.serverCostMs).toBeCloseTo(0.32, 9);
    expect(e.latencyMs).toBeCloseTo(31.32, 9);
    expect(e.throughputRps).toBeCloseTo(50, 9);
    expect(e.accuracy).toBe(0.8);
    expect(e.offloadProbability).toBeCloseTo(0.4, 9);
    expect(e.uploadBytes).toBeCloseTo(20, 9);
  });

  it('device-only (split 4): every exit on the device, nothing sent', () => {
    // 0.6·3.5 + 0.4·(1+2+3+4+0.5+1) = 6.7 ms offline, ×2.
    const e = estimatePlan(m, 4, thr(0.5), undefined, ctx);
    expect(e.latencyMs).toBeCloseTo(13.4, 9);
    expect(e.deviceCostMs).toBeCloseTo(13.4, 9);
    expect(e.serverCostMs).toBe(0);
    expect(e.offloadProbability).toBe(0);
    expect(e.throughputRps).toBeCloseTo(1000 / 13.4, 9);
  });

  it('server-only (split 0) without exits: RTT + 100 bytes + the whole server model, times the load', () => {
    expect(estimatePlan(m, 0, thr(1), fp32(0), ctx).latencyMs).toBeCloseTo(10 + 100 + 1.15, 9);
    const loaded = estimatePlan(m, 0, thr(1), fp32(0), { ...ctx, serverLoad: 3 });
    expect(loaded.latencyMs).toBeCloseTo(10 + 100 + 3.45, 9);
    expect(loaded.serverCostMs).toBeCloseTo(1.15, 9); // cost is compute, not waiting
  });

  it('a split before the first exit offloads everything at threshold 1', () => {
    // split 1: device block 0 (1 ms ×2), server blocks 1..3 + both exits (0.9 + 0.15), 200 bytes.
    const e = estimatePlan(m, 1, thr(1), fp32(1), ctx);
    expect(e.latencyMs).toBeCloseTo(2 + 10 + 200 + 1.05, 9);
  });

  it('charges the measured per-offload overhead once per offloaded sample', () => {
    // As the split-2 case above plus 0.4 · 25 ms of overhead; device-only plans pay nothing.
    const o = { ...ctx, offloadOverheadMs: 25 };
    expect(estimatePlan(m, 2, thr(0.5), fp32(2), o).latencyMs).toBeCloseTo(31.32 + 10, 9);
    expect(estimatePlan(m, 4, thr(0.5), undefined, o).latencyMs).toBeCloseTo(13.4, 9);
    expect(estimateTruncated(m, 0, 0, fp32(0), o).latencyMs).toBeCloseTo(10 + 25 + 100 + 0.35, 9);
  });

  it('Edgent truncation: every sample leaves at the chosen exit', () => {
    const off = estimateTruncated(m, 0, 0, fp32(0), ctx);
    expect(off.latencyMs).toBeCloseTo(10 + 100 + 0.35, 9);
    expect(off.accuracy).toBe(0.7);
    const dev = estimateTruncated(m, 4, 0, undefined, ctx);
    expect(dev.latencyMs).toBeCloseTo(7, 9); // 2·(1+2+0.5): exit 1 never runs
    expect(dev.offloadProbability).toBe(0);
  });
});

describe('context and profile helpers', () => {
  it('load factor is 1 + (busy + queued) / workers', () => {
    expect(serverLoadFactor(undefined)).toBe(1);
    expect(serverLoadFactor({ busy: 2, queued: 4, workers: 2 })).toBe(4);
  });

  it('fills defaults for what the client did not report', () => {
    const c = schedulerContext({ bandwidthBps: 5e5 }, { busy: 1, queued: 0, workers: 1 });
    expect(c).toMatchObject({
      bandwidthBps: 5e5,
      deviceScale: 1,
      serverScale: 1,
      serverLoad: 2,
      offloadOverheadMs: 0,
    });
    expect(schedulerContext({ offloadOverheadMs: 30 }).offloadOverheadMs).toBe(30);
  });

  it('offline server time of what the server ran', () => {
    // split 2, 2 blocks (2, 3) and the final exit: 0.3 + 0.4 + 0.1.
    expect(offlineServerMs(m, 2, 2, 1)).toBeCloseTo(0.8, 9);
  });

  it('codec options come from profile.codec when present, fp32 only otherwise', () => {
    expect(codecOptionsBySplit(tinyManifest()).get(2)).toEqual([
      { spec: { scheme: 'fp32' }, bits: 32, bytes: 50, accuracyDelta: 0, encodeMs: 0, decodeMs: 0 },
    ]);
    const withCodec = tinyManifest({ codec: q8Codec(2, 10) });
    const model = costModel(withCodec);
    const q8 = model.splits.find((s) => s.split === 2)!.options[1]!;
    expect(q8).toMatchObject({
      spec: { scheme: 'quant', bits: 8 },
      bits: 8,
      bytes: 10,
      accuracyDelta: -0.005,
    });
    // split 2 thr 0.5 with q8: 0.4 · 10 bytes; device + 0.4·0.5 ms encode (×2); server + 0.4·0.25 ms decode;
    // accuracy 0.8 − 0.2 pp (the change measured at threshold 0.5).
    const e = estimatePlan(model, 2, thr(0.5), q8, ctx);
    expect(e.uploadBytes).toBeCloseTo(4, 9);
    expect(e.deviceCostMs).toBeCloseTo(7.4, 9);
    expect(e.serverCostMs).toBeCloseTo(0.42, 9);
    expect(e.latencyMs).toBeCloseTo(7.4 + 4 + 4 + 0.42, 9);
    expect(e.accuracy).toBeCloseTo(0.798, 9);
  });
});
