// What the scheduler knows about the world when it plans a request: device slowdown, link bandwidth and latency,
// server speed and load, and whether the server can be reached at all. Built from the client's reported context
// (its online profiler) and the backend's load; missing values get conservative defaults, named here once.

import type { ClientContext } from './wire.js';

export interface SchedulerContext {
  /** Device time over the offline device profile (SF = T_real / T_offline). */
  deviceScale: number;
  /** Uplink bandwidth, bytes per second. */
  bandwidthBps: number;
  /** Round-trip latency of a small request to the edge, ms. */
  rttMs: number;
  /**
   * What an offload costs beyond that round trip and its bytes, ms: the edge's request state and backend hop, and
   * the client's own HTTP and serialisation work (large on a throttled device). Measured on offloads only; negative
   * when the measured round trip overstates an offload's fixed cost (rttMs + offloadOverheadMs ≥ 0).
   */
  offloadOverheadMs: number;
  /** Server compute time over the offline server-estimate profile. */
  serverScale: number;
  /** Multiplier on server block times from the backend's queue (1 = idle). */
  serverLoad: number;
  /** False when the edge or the backend cannot be reached: only device plans are considered. */
  serverAvailable: boolean;
}

/** Load as the backend reports it (GET /health, and `load` on every result). */
export interface BackendLoad {
  busy: number;
  queued: number;
  workers: number;
}

export const DEFAULT_CONTEXT: SchedulerContext = {
  deviceScale: 1,
  bandwidthBps: 1_250_000, // 10 Mbit/s: a modest mobile uplink until the client has measured one
  rttMs: 20,
  offloadOverheadMs: 0,
  serverScale: 1,
  serverLoad: 1,
  serverAvailable: true,
};

/**
 * Server load factor: with `workers` parallel slots, a new request waits for about (busy + queued) / workers
 * requests ahead of it and shares the machine with them, so its server part takes that many times longer.
 */
export function serverLoadFactor(load: BackendLoad | undefined): number {
  if (!load) return 1;
  const ahead = Math.max(0, load.busy) + Math.max(0, load.queued);
  return 1 + ahead / Math.max(1, load.workers);
}

const finitePositive = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;

/** The scheduler's context from a client's reported context, the backend load and reachability. */
export function schedulerContext(
  client: ClientContext | undefined,
  load?: BackendLoad,
  serverAvailable = true,
): SchedulerContext {
  const c = client ?? {};
  const rttMs =
    c.rttMs !== undefined && Number.isFinite(c.rttMs) ? Math.max(0, c.rttMs) : DEFAULT_CONTEXT.rttMs;
  return {
    deviceScale: finitePositive(c.deviceScale) ? c.deviceScale : DEFAULT_CONTEXT.deviceScale,
    bandwidthBps: finitePositive(c.bandwidthBps) ? c.bandwidthBps : DEFAULT_CONTEXT.bandwidthBps,
    rttMs,
    offloadOverheadMs:
      c.offloadOverheadMs !== undefined && Number.isFinite(c.offloadOverheadMs)
        ? Math.max(-rttMs, c.offloadOverheadMs)
        : DEFAULT_CONTEXT.offloadOverheadMs,
    serverScale: finitePositive(c.serverScale) ? c.serverScale : DEFAULT_CONTEXT.serverScale,
    serverLoad: serverLoadFactor(load),
    serverAvailable,
  };
}
