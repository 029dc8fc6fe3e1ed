// Link conditions over time for the emulated network: a trace is a JSON list of {tMs, mbps, rttMs} points, each
// holding from its tMs until the next one (a step function), optionally repeating. Shared by the user-space link
// proxy and the kernel (tbf) shaper so both follow the same definition.

import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface LinkConditions {
  /** Bandwidth of each direction, Mbit/s (Infinity = not limited). */
  mbps: number;
  /** Added round-trip time, ms (half on each direction). */
  rttMs: number;
}

export interface TracePoint extends LinkConditions {
  /** Time from the start of the trace, ms, at which these conditions begin. */
  tMs: number;
}

const pointSchema = z.object({
  tMs: z.number().finite().nonnegative(),
  mbps: z.number().positive(),
  rttMs: z.number().finite().nonnegative(),
});
const traceSchema = z.array(pointSchema).min(1);

/** Validates a trace (sorted by tMs on return; the first point is moved to tMs 0). */
export function parseTrace(input: unknown): TracePoint[] {
  const points = traceSchema.parse(input).sort((a, b) => a.tMs - b.tMs);
  points[0] = { ...points[0]!, tMs: 0 };
  return points;
}

export function readTrace(path: string): TracePoint[] {
  return parseTrace(JSON.parse(readFileSync(path, 'utf8')));
}

/** Total duration of a trace: the last point's start plus the previous step's length (or 1 s for a single point). */
export function traceDurationMs(trace: readonly TracePoint[]): number {
  if (trace.length < 2) return 1000;
  const last = trace[trace.length - 1]!.tMs;
  return last + (last - trace[trace.length - 2]!.tMs);
}

/** The conditions in force `tMs` after the trace started; with `loop`, the trace repeats after its duration. */
export function conditionsAt(trace: readonly TracePoint[], tMs: number, loop = false): LinkConditions {
  let t = Math.max(0, tMs);
  if (loop) t %= traceDurationMs(trace);
  let cur = trace[0]!;
  for (const p of trace) {
    if (p.tMs > t) break;
    cur = p;
  }
  return { mbps: cur.mbps, rttMs: cur.rttMs };
}

export const describeConditions = (c: LinkConditions) =>
  `${Number.isFinite(c.mbps) ? `${c.mbps} Mbit/s` : 'unlimited'} each way, +${c.rttMs} ms RTT`;
