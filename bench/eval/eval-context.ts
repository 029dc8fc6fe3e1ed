// What every experiment of the evaluation shares: the running stack (backend + worker on workerd), the link proxy
// in front of the worker, the throttled device, the configuration and a helper that measures one policy under the
// current conditions. Experiments change only the emulated conditions and the SLA, never the code under test.

import { startBackend, type Stack } from '../../harness/stack.js';
import type { Policy, SlaInput } from '../../core/sla.js';
import type { LinkProxy } from '../../harness/link-proxy.js';
import type { TracePoint } from '../../harness/link-trace.js';
import type { EvalConfig } from './config.js';
import type { DeviceHost } from './device-host.js';
import type { DeviceJob, RequestRecord } from './device-protocol.js';
import { continuationOf } from './policies.js';
import { summarize, type Summary } from './stats.js';

export interface EvalContext {
  cfg: EvalConfig;
  stack: Stack;
  proxy: LinkProxy;
  device: DeviceHost;
  /** How bandwidth is produced in this run ('proxy' or 'kernel'), for labels. */
  bandwidthBy: 'proxy' | 'kernel';
  /** Sets the link's bandwidth (kernel tbf or proxy) and the proxy's RTT. */
  setLink(c: { mbps: number; rttMs: number }): void;
  /** Returns a function that starts following the trace (bandwidth and RTT) when called. */
  followTrace(trace: TracePoint[]): () => void;
  log(msg: string): void;
}

export interface Measured {
  policy: Policy;
  /** What the report calls this run, when it is not just the policy (e.g. a run with a forced plan). */
  label?: string;
  summary: Summary;
  records: RequestRecord[];
  link: string;
}

export const WARMUP_BASE = 900;

export function imagesFor(cfg: EvalConfig, n: number, offset = 0): number[] {
  const warm = Array.from({ length: cfg.warmup }, (_, i) => WARMUP_BASE + i);
  return [...warm, ...Array.from({ length: n }, (_, i) => (offset + i) % WARMUP_BASE)];
}

export async function measure(
  ctx: EvalContext,
  policy: Policy,
  sla: SlaInput,
  o: {
    n?: number;
    slaMs?: number;
    offloadTimeoutMs?: number;
    job?: Partial<DeviceJob>;
    onProgress?: (done: number) => void;
    beforeGo?: () => number | undefined;
  } = {},
): Promise<Measured> {
  const link = ctx.proxy.describe();
  const job: DeviceJob = {
    sla,
    images: imagesFor(ctx.cfg, o.n ?? ctx.cfg.perPoint),
    warmup: ctx.cfg.warmup,
    offloadTimeoutMs: o.offloadTimeoutMs ?? 3000,
    localContinuation: continuationOf(policy),
    hangMs: 30_000,
    ...(o.onProgress ? { progress: true } : {}),
    ...o.job,
  };
  const r = await ctx.device.run(job, o.onProgress, o.beforeGo);
  return { policy, summary: summarize(r.records, r.wallMs, o.slaMs), records: r.records, link };
}

/** Restarts a stopped backend on its old port (the worker's BACKEND_URL stays valid). */
export async function restartBackend(ctx: EvalContext): Promise<void> {
  const port = Number(new URL(ctx.stack.backend.url).port);
  ctx.stack.backend = await startBackend({ port, token: ctx.stack.token, workers: 1 });
}

export const fmtMs = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
