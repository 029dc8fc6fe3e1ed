// What every experiment of the evaluation shares: the running stack (backend + worker on workerd, scheduling with
// the calibration-half manifests), the link proxy in front of the worker, the configuration, the calibrations,
// progress, and the one way a cell (one system, one repetition, one point) is run on a device. Experiments change
// only the emulated conditions and the SLA, never the code under test.

import { startBackend, type Stack } from '../../harness/stack.js';
import type { LinkProxy } from '../../harness/link-proxy.js';
import type { Calibration } from './calibration.js';
import type { EvalConfig } from './config.js';
import { DeviceHost } from './device-host.js';
import type { DeviceJob, RequestRecord } from './device-protocol.js';
import type { DeviceModel } from './grid.js';
import { slaFor, type ProbeId, type SlaKind, type System } from './policies.js';
import type { Progress } from './progress.js';

export interface EvalContext {
  cfg: EvalConfig;
  stack: Stack;
  proxy: LinkProxy;
  /** Folder of the calibrated manifests (the edge's assets, the device's manifests). */
  siteDir: string;
  calibrations: Map<string, Calibration>;
  /** How bandwidth is produced in this run ('proxy' or 'kernel'), for labels. */
  bandwidthBy: 'proxy' | 'kernel';
  /** Sets the link's bandwidth (kernel tbf or proxy) and the proxy's RTT. */
  setLink(c: { mbps: number; rttMs: number }): void;
  /** Command prefix that runs a device inside the kernel link's namespace, if any. */
  wrap?: string[];
  progress: Progress;
}

export function startDevice(
  ctx: EvalContext,
  o: { model: string; deviceModel: DeviceModel; cpu: number; name?: string },
): Promise<DeviceHost> {
  return DeviceHost.start({
    ...o,
    edgeUrl: ctx.proxy.url,
    apiKey: ctx.stack.apiKey,
    manifestDir: ctx.siteDir,
    ...(ctx.wrap ? { wrap: ctx.wrap } : {}),
  });
}

/**
 * Starts a device and warms its process up, unmeasured: a fresh process's JIT and the first sessions' kernels
 * make its first cells slow (a cold first cell of SPINN measured 3× its later ones), so every code path (all
 * blocks and exits on the device, an offload at split 0) runs a few times before any cell is recorded.
 */
export async function startWarmDevice(
  ctx: EvalContext,
  o: { model: string; deviceModel: DeviceModel; cpu: number; name?: string },
): Promise<DeviceHost> {
  const host = await startDevice(ctx, o);
  const nBlocks = ctx.calibrations.get(o.model)!.manifest.blocks.length;
  const images = Array.from({ length: 8 }, (_, i) => 2 * i); // calibration images, never measured
  for (const system of ['probe: device', 'probe: offload'] as const)
    await runCell(ctx, host, { system, slaKind: 'latency', warmupImages: [], images, nBlocks });
  return host;
}

export interface CellSpec {
  /** A system (policy + continuation) under the SLA of `slaKind`, or a probe's fixed plan. */
  system: System | ProbeId;
  slaKind: SlaKind;
  warmupImages: number[];
  images: number[];
  /** Blocks of the model (the device probe's split). */
  nBlocks: number;
}

/** The device job of a cell. */
export function cellJob(ctx: EvalContext, c: CellSpec): DeviceJob {
  const common = {
    warmupImages: c.warmupImages,
    images: c.images,
    offloadTimeoutMs: ctx.cfg.offloadTimeoutMs,
    hangMs: 30_000,
  };
  if (typeof c.system === 'string') {
    const device = c.system === 'probe: device';
    return {
      ...common,
      plan: { split: device ? c.nBlocks : 0, threshold: 1 },
      localContinuation: 'on-failure',
      ...(device ? { steps: true } : {}),
    };
  }
  return {
    ...common,
    sla: slaFor(c.system.policy, c.slaKind, ctx.cfg.deadlineMs, ctx.cfg.accuracyLossPp),
    localContinuation: c.system.continuation,
  };
}

export async function runCell(
  ctx: EvalContext,
  host: DeviceHost,
  c: CellSpec,
  onProgress?: (done: number) => void,
): Promise<RequestRecord[]> {
  const job = cellJob(ctx, c);
  return (await host.run(onProgress ? { ...job, progress: true } : job, onProgress)).records;
}

export const systemId = (s: System | ProbeId): string => (typeof s === 'string' ? s : s.id);
export const fmtMs = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

/** Restarts a stopped backend on its old port (the worker's BACKEND_URL stays valid). */
export async function restartBackend(ctx: EvalContext): Promise<void> {
  const port = Number(new URL(ctx.stack.backend.url).port);
  ctx.stack.backend = await startBackend({ port, token: ctx.stack.token, workers: 1 });
}
