// Predicts SPINN's five metrics for one candidate plan ⟨split, threshold, bits⟩ (or an Edgent-style truncated plan
// ⟨split, exit⟩) from the offline profile and the live context. Expectations run over the profile's exit
// distribution at the threshold: samples leaving at a device exit cost device time only; the rest pay the device
// part, the upload (RTT + the measured per-offload overhead + bytes / bandwidth) and the server blocks up to their exit, scaled by server speed and load.
// The profile is folded into prefix sums once per manifest (CostModel), so one estimate costs O(exits).

import { accuracyDeltaAt, codecOptionsBySplit, type CodecOption } from './codec-options.js';
import type { ModelManifest, ThresholdProfile } from './manifest.js';
import type { SchedulerContext } from './scheduler-context.js';

export interface Estimate {
  /** Expected end-to-end latency per request, ms. */
  latencyMs: number;
  /** Requests per second of the device → link → server pipeline: 1000 / its slowest stage's expected ms. */
  throughputRps: number;
  /** Expected device compute per request, ms. */
  deviceCostMs: number;
  /** Expected server compute per request, ms (server speed, not load). */
  serverCostMs: number;
  /** Expected top-1 accuracy. */
  accuracy: number;
  /** Share of requests that reach the split without exiting and are offloaded. */
  offloadProbability: number;
  /** Expected bytes uploaded per request. */
  uploadBytes: number;
}

export interface CostModel {
  manifest: ModelManifest;
  nBlocks: number;
  /** afterBlock of each exit. */
  exitAfter: number[];
  /** Prefix sums: devBlocks[i] = Σ device ms of blocks < i; devExits[i] = Σ device ms of exits < i. */
  devBlocks: Float64Array;
  devExits: Float64Array;
  srvBlocks: Float64Array;
  srvExits: Float64Array;
  thresholds: ThresholdProfile[];
  exitAccuracy: number[];
  /** Split values with their codec options, ascending; device-only (nBlocks) last with no options. */
  splits: { split: number; options: CodecOption[] }[];
  /** Best accuracy any threshold reaches (reference for accuracy-loss limits). */
  bestAccuracy: number;
}

export class ProfileMissingError extends Error {
  override readonly name = 'ProfileMissingError';
}

function prefix(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) out[i + 1] = out[i]! + values[i]!;
  return out;
}

const models = new WeakMap<ModelManifest, CostModel>();

/** The manifest's profile as prefix sums (cached per manifest object). */
export function costModel(manifest: ModelManifest): CostModel {
  const cached = models.get(manifest);
  if (cached) return cached;
  const p = manifest.profile;
  if (!p || p.thresholds.length === 0) throw new ProfileMissingError(`model ${manifest.id} has no profile`);
  const dev = p.latency.find((l) => l.role === 'device');
  if (!dev) throw new ProfileMissingError(`model ${manifest.id} has no device latency profile`);
  // Without a server measurement the server is assumed to run like the profiled device (scale 1).
  const srv = p.latency.find((l) => l.role === 'server-estimate') ?? dev;
  const options = codecOptionsBySplit(manifest);
  const n = manifest.blocks.length;
  const splits = [...options.entries()]
    .filter(([s]) => s < n)
    .sort((a, b) => a[0] - b[0])
    .map(([split, opts]) => ({
      split,
      options: [...opts].sort((a, b) => b.bits - a.bits || b.bytes - a.bytes),
    }));
  splits.push({ split: n, options: [] });
  const thresholds = [...p.thresholds].sort((a, b) => b.threshold - a.threshold);
  const model: CostModel = {
    manifest,
    nBlocks: n,
    exitAfter: manifest.exits.map((e) => e.afterBlock),
    devBlocks: prefix(dev.blockMs),
    devExits: prefix(dev.exitMs),
    srvBlocks: prefix(srv.blockMs),
    srvExits: prefix(srv.exitMs),
    thresholds,
    exitAccuracy: p.exitAccuracy,
    splits,
    bestAccuracy: Math.max(...thresholds.map((t) => t.accuracy)),
  };
  models.set(manifest, model);
  return model;
}

/** Number of exits that hang after blocks the device runs when it runs `split` blocks. */
export function deviceExitCount(m: CostModel, split: number): number {
  let k = 0;
  while (k < m.exitAfter.length && m.exitAfter[k]! < split) k++;
  return k;
}

function throughput(deviceMs: number, linkMs: number, serverMs: number): number {
  const stage = Math.max(deviceMs, linkMs, serverMs);
  return stage > 0 ? 1000 / stage : Number.MAX_SAFE_INTEGER;
}

const transferMs = (bytes: number, ctx: SchedulerContext) => (bytes / ctx.bandwidthBps) * 1000;

/**
 * The codec-independent part of a SPINN plan's estimate at ⟨split, threshold⟩: where samples leave and what the
 * device and server compute. The scheduler computes it once per ⟨split, threshold⟩ and reuses it for every codec.
 */
export interface PlanBase {
  split: number;
  /** Σ over device exits of f_e · device ms to finish exit e. */
  devExitMs: number;
  /** Share of samples offloaded (0 for device-only). */
  pOff: number;
  /** Device ms to reach the split (blocks and the device's exits). */
  toSplit: number;
  /** Σ over server exits of f_e · server ms from the split to finish exit e, offline speed. */
  srvMs: number;
}

export function planBase(m: CostModel, split: number, t: ThresholdProfile): PlanBase {
  const nd = deviceExitCount(m, split);
  const f = t.exitFraction;
  let devExitMs = 0;
  let pDevice = 0;
  for (let e = 0; e < nd; e++) {
    const fe = f[e] ?? 0;
    pDevice += fe;
    devExitMs += fe * (m.devBlocks[m.exitAfter[e]! + 1]! + m.devExits[e + 1]!);
  }
  const pOff = split >= m.nBlocks ? 0 : Math.max(0, 1 - pDevice);
  const toSplit = m.devBlocks[split]! + m.devExits[nd]!;
  let srvMs = 0;
  if (pOff > 0) {
    for (let e = nd; e < m.exitAfter.length; e++) {
      const fe = f[e] ?? 0;
      if (fe === 0) continue;
      srvMs +=
        fe * (m.srvBlocks[m.exitAfter[e]! + 1]! - m.srvBlocks[split]! + m.srvExits[e + 1]! - m.srvExits[nd]!);
    }
  }
  return { split, devExitMs, pOff, toSplit, srvMs };
}

/**
 * Writes a SPINN plan's estimate into `out` from its codec-independent base, its expected accuracy (codec loss
 * included) and the codec `option` for the activation. In place, because the scheduler runs it for every candidate.
 */
export function fillEstimate(
  out: Estimate,
  b: PlanBase,
  accuracy: number,
  option: CodecOption | undefined,
  ctx: SchedulerContext,
): Estimate {
  const pOff = b.pOff;
  const bytes = pOff > 0 && option ? option.bytes : 0;
  // Encoding runs on the device and decoding on the server, both measured on the profiling host.
  const deviceCostMs = ctx.deviceScale * (b.devExitMs + pOff * (b.toSplit + (option?.encodeMs ?? 0)));
  const serverCostMs = ctx.serverScale * (b.srvMs + pOff * (option?.decodeMs ?? 0));
  const linkMs = pOff * transferMs(bytes, ctx);
  out.latencyMs =
    deviceCostMs + pOff * (ctx.rttMs + ctx.offloadOverheadMs) + linkMs + ctx.serverLoad * serverCostMs;
  out.throughputRps = throughput(deviceCostMs, linkMs, serverCostMs * ctx.serverLoad);
  out.deviceCostMs = deviceCostMs;
  out.serverCostMs = serverCostMs;
  out.accuracy = accuracy;
  out.offloadProbability = pOff;
  out.uploadBytes = pOff * bytes;
  return out;
}

/**
 * SPINN plan: blocks < split on the device with their exits at `t.threshold`, the rest on the server.
 * `option` is the codec for the activation (ignored when split is device-only).
 */
export function estimatePlan(
  m: CostModel,
  split: number,
  t: ThresholdProfile,
  option: CodecOption | undefined,
  ctx: SchedulerContext,
): Estimate {
  const base = planBase(m, split, t);
  const accuracy = t.accuracy + (base.pOff > 0 && option ? accuracyDeltaAt(option, t.threshold) : 0);
  return fillEstimate({} as Estimate, base, accuracy, option, ctx);
}

/**
 * Edgent plan: the network is cut at exit `exit` (every sample leaves there; earlier exits are not run). The
 * device runs blocks < split (or up to the exit when the exit comes first), the server the rest.
 */
export function estimateTruncated(
  m: CostModel,
  split: number,
  exit: number,
  option: CodecOption | undefined,
  ctx: SchedulerContext,
): Estimate {
  const last = m.exitAfter[exit]!;
  const exitDev = m.devExits[exit + 1]! - m.devExits[exit]!;
  const accuracy = (m.exitAccuracy[exit] ?? 0) + (split <= last && option ? option.accuracyDelta : 0);
  if (split > last) {
    const deviceCostMs = ctx.deviceScale * (m.devBlocks[last + 1]! + exitDev);
    return {
      latencyMs: deviceCostMs,
      throughputRps: throughput(deviceCostMs, 0, 0),
      deviceCostMs,
      serverCostMs: 0,
      accuracy,
      offloadProbability: 0,
      uploadBytes: 0,
    };
  }
  const bytes = option?.bytes ?? 0;
  const deviceCostMs = ctx.deviceScale * (m.devBlocks[split]! + (option?.encodeMs ?? 0));
  const serverCostMs =
    ctx.serverScale *
    (m.srvBlocks[last + 1]! -
      m.srvBlocks[split]! +
      m.srvExits[exit + 1]! -
      m.srvExits[exit]! +
      (option?.decodeMs ?? 0));
  const linkMs = transferMs(bytes, ctx);
  return {
    latencyMs: deviceCostMs + ctx.rttMs + ctx.offloadOverheadMs + linkMs + ctx.serverLoad * serverCostMs,
    throughputRps: throughput(deviceCostMs, linkMs, serverCostMs * ctx.serverLoad),
    deviceCostMs,
    serverCostMs,
    accuracy,
    offloadProbability: 1,
    uploadBytes: bytes,
  };
}

/** Offline server-estimate ms of what the server ran: blocks [split, split + blocksRun) and their exits up to `exit`. */
export function offlineServerMs(m: CostModel, split: number, blocksRun: number, exit: number | null): number {
  const end = Math.min(m.nBlocks, split + blocksRun);
  const nd = deviceExitCount(m, split);
  const lastExit = exit ?? deviceExitCount(m, end) - 1;
  const exits = lastExit >= nd ? m.srvExits[lastExit + 1]! - m.srvExits[nd]! : 0;
  return m.srvBlocks[end]! - m.srvBlocks[split]! + exits;
}
