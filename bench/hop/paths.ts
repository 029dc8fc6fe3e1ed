// bench:hop's measurement loop: the same offload body sent along several paths (direct to the backend, through
// the pass-through worker, through SPINN's worker), interleaved so drift on a shared machine hits every path alike:
// rounds in which every path gets a block of consecutive requests, the paths in a fresh seeded-random order each
// round. Why blocks: the work a hop leaves behind after its answer (its inspector events through wrangler, a
// commit, a collection) runs during whatever request comes next. In the former cyclic order (one request per path,
// rotated) every path had the same predecessor in most rounds, so that work fell on the same neighbour every time:
// the edge always followed the pass-through behind [assets] (10.99 ms p50 after it, 10.20 after a direct call, in one
// run) and the pass-through always followed a direct call (8.42 after it, 9.37 after the edge). One request per path
// in shuffled order removes the fixed neighbour but makes the others pay part of each hop's after-work and spares the
// hop itself. In a block, each request after the first follows one of its own, as on a hop that serves back-to-back
// requests: every hop pays its own after-work. Each path's latency is client-side wall time from fetch to the body
// read.

import { decodeResult, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { progressBar } from '../../tools/cli/progress.js';
import { seededRandom, shuffled } from '../../tools/exits/softmax-regression.js';

export interface HopPath {
  name: string;
  url: string;
  headers: Record<string, string>;
  /**
   * Headers taken in turn, one set per request, on top of `headers`: several API keys keep a long run under the
   * edge's per-key rate limit (600 requests per 10 s), which one key alone exceeds at Miniflare's pace.
   */
  rotate?: Record<string, string>[];
  /** This path's own body (a fresh request id each call) instead of the run's. */
  body?: () => Uint8Array;
}

export interface PathTimes {
  ms: number[];
  /** The Server-Timing header of each answer (SPINN's worker only; empty elsewhere). */
  serverTiming: string[];
  resultBytes: number[];
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/**
 * One offload along `p`, checked to be answered `done`. `sentAt` and `readAt` are this machine's clock in epoch ms
 * (microsecond resolution), so another process's timestamps compare with them (bench:phases' timing backend).
 */
export async function send(p: HopPath, body: Uint8Array) {
  const sent = sentOn.get(p) ?? 0;
  sentOn.set(p, sent + 1);
  const turn = p.rotate?.length ? p.rotate[sent % p.rotate.length] : undefined;
  const t0 = performance.now();
  const res = await fetch(p.url, {
    method: 'POST',
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...p.headers, ...turn },
    body: body as Uint8Array<ArrayBuffer>,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const t1 = performance.now();
  // An error answer (JSON) is not a result: say so, rather than let the msgpack decoder misread its first byte.
  if (!res.ok || res.headers.get('content-type') !== WIRE_CONTENT_TYPE) {
    const text = new TextDecoder().decode(bytes.subarray(0, 300));
    throw new Error(`${p.name}: HTTP ${res.status} (${res.headers.get('content-type')}): ${text}`);
  }
  const r = decodeResult(bytes);
  if (r.status !== 'done') throw new Error(`${p.name}: ${r.status} ${r.error ?? ''}`);
  return {
    ms: t1 - t0,
    sentAt: performance.timeOrigin + t0,
    readAt: performance.timeOrigin + t1,
    bytes: bytes.byteLength,
    serverTiming: res.headers.get('server-timing') ?? '',
  };
}

/** Requests sent along each path so far (which of `rotate` comes next). */
const sentOn = new WeakMap<HopPath, number>();

/** Requests a path gets in a row within a round (bench:hop, bench:phases). */
export const BLOCK = 5;

/**
 * The sequence of path indices for `requests` requests per path: rounds of one block per path, the paths in a seeded
 * shuffle each round (so a run is repeatable); the last round's blocks are shorter when `requests` is not a multiple.
 */
export function blockSchedule(paths: number, requests: number, block = BLOCK, seed = 12): number[] {
  const rand = seededRandom(seed);
  const out: number[] = [];
  for (let done = 0; done < requests; done += block) {
    const n = Math.min(block, requests - done);
    for (const k of shuffled(paths, rand)) for (let j = 0; j < n; j++) out.push(k);
  }
  return out;
}

/** Sends `requests` offloads along every path (after `warmup` each), in blocks (`blockSchedule`). */
export async function measurePaths(
  label: string,
  paths: HopPath[],
  body: () => Uint8Array,
  requests: number,
  warmup = 20,
): Promise<Record<string, PathTimes>> {
  for (let i = 0; i < warmup; i++) for (const p of paths) await send(p, (p.body ?? body)());
  const out: Record<string, PathTimes> = {};
  for (const p of paths) out[p.name] = { ms: [], serverTiming: [], resultBytes: [] };
  const schedule = blockSchedule(paths.length, requests);
  const bar = progressBar(label, schedule.length);
  for (const [i, k] of schedule.entries()) {
    const p = paths[k]!;
    const r = await send(p, (p.body ?? body)());
    out[p.name]!.ms.push(r.ms);
    out[p.name]!.resultBytes.push(r.bytes);
    out[p.name]!.serverTiming.push(r.serverTiming);
    if (i % paths.length === paths.length - 1) bar.update(i + 1);
  }
  bar.stop();
  return out;
}
