// bench:hop's measurement loop: the same offload body sent along several paths (direct to the backend, through
// the pass-through worker, through SPINN's worker), interleaved so drift on a shared machine hits every path alike.
// Each round sends one request per path in a fresh seeded-random order: a fixed cyclic order (each round rotated)
// gave every path the same predecessor in most rounds, and the work a hop leaves behind after its answer (a commit,
// a collection) then fell on the same neighbour every time. A variant placed last in the cycle measured 0.15-0.58 ms
// faster at the median than the worker before it in six runs, and -0.35 to +0.12 ms in three shuffled runs, where
// two copies of one worker agree within 0.1 ms. Each path's latency is client-side wall time from fetch to the body
// read.

import { decodeResult, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { progressBar } from '../../tools/cli/progress.js';
import { seededRandom, shuffled } from '../../tools/exits/softmax-regression.js';

export interface HopPath {
  name: string;
  url: string;
  headers: Record<string, string>;
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

async function send(p: HopPath, body: Uint8Array) {
  const t0 = performance.now();
  const res = await fetch(p.url, {
    method: 'POST',
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...p.headers },
    body: body as Uint8Array<ArrayBuffer>,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  const r = decodeResult(bytes);
  if (r.status !== 'done') throw new Error(`${p.name}: ${r.status} ${r.error ?? ''}`);
  return { ms, bytes: bytes.byteLength, serverTiming: res.headers.get('server-timing') ?? '' };
}

/** Per round, the order to visit `n` paths in: a seeded shuffle, so a run is repeatable. */
export function roundOrders(n: number, rounds: number, seed = 12): Int32Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: rounds }, () => shuffled(n, rand));
}

/** Sends `requests` offloads along every path (after `warmup` each), in a fresh random order each round. */
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
  const bar = progressBar(label, requests * paths.length);
  const orders = roundOrders(paths.length, requests);
  for (let i = 0; i < requests; i++) {
    for (const k of orders[i]!) {
      const p = paths[k]!;
      const r = await send(p, (p.body ?? body)());
      out[p.name]!.ms.push(r.ms);
      out[p.name]!.resultBytes.push(r.bytes);
      out[p.name]!.serverTiming.push(r.serverTiming);
    }
    bar.update((i + 1) * paths.length);
  }
  bar.stop();
  return out;
}
