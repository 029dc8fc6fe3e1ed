// Closed-loop load over HTTP for bench:backend: `concurrency` loops, each sending an offload and sending the next as
// soon as the answer is in, for a fixed time. node:http with a keep-alive agent (one socket per loop) rather than
// fetch: on this 2-core machine the load generator shares the CPU with the server, and undici's fetch costs it
// several times more per request.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { unpack } from 'msgpackr';
import { WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { nextBody, type SplitWorkload } from './workload.js';

export interface LoadRun {
  /** Answers with status done per second over the run. */
  throughputRps: number;
  latenciesMs: number[];
  failures: number;
  /** CPU the load generator itself used, ms per request. */
  clientCpuMsPerRequest: number;
  wallMs: number;
}

/** Several short runs of the same load as one: answers over total time, latencies pooled. */
export function combineRuns(runs: readonly LoadRun[]): LoadRun {
  const wallMs = runs.reduce((a, r) => a + r.wallMs, 0);
  const latenciesMs = runs.flatMap((r) => r.latenciesMs);
  const failures = runs.reduce((a, r) => a + r.failures, 0);
  const clientCpuMs = runs.reduce(
    (a, r) => a + r.clientCpuMsPerRequest * (r.latenciesMs.length + r.failures),
    0,
  );
  return {
    throughputRps: (latenciesMs.length / wallMs) * 1000,
    latenciesMs,
    failures,
    clientCpuMsPerRequest: clientCpuMs / Math.max(1, latenciesMs.length + failures),
    wallMs,
  };
}

function post(agent: http.Agent, url: URL, token: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': WIRE_CONTENT_TYPE,
          'content-length': body.length,
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function closedLoop(
  baseUrl: string,
  token: string,
  w: SplitWorkload,
  concurrency: number,
  seconds: number,
): Promise<LoadRun> {
  const url = new URL('/infer', baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const body = nextBody(w, next++);
      const s = performance.now();
      try {
        // Only the status is checked: core's full result validation would cost the load generator, which shares
        // the CPU with the server here, more than the server spends on its own answer.
        const r = unpack(await post(agent, url, token, body)) as { status: string; error?: string };
        if (r.status !== 'done') throw new Error(`${r.status}: ${r.error ?? ''}`);
        latenciesMs.push(performance.now() - s);
      } catch (e) {
        failures++;
        if (failures > 20) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return {
    throughputRps: (latenciesMs.length / wallMs) * 1000,
    latenciesMs,
    failures,
    clientCpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, latenciesMs.length + failures),
    wallMs,
  };
}
