// bench:hop's measurement loop: the same offload body sent along several paths (direct to the backend, through
// the pass-through worker, through SPINN's worker), interleaved in rotating order so drift on a shared machine hits
// every path alike. Each path's latency is client-side wall time from fetch to the body read.

import { decodeResult, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { progressBar } from '../../tools/cli/progress.js';

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

/** Sends `requests` offloads along every path (after `warmup` each), rotating which path goes first. */
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
  for (let i = 0; i < requests; i++) {
    const order = paths.map((_, k) => paths[(i + k) % paths.length]!);
    for (const p of order) {
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
