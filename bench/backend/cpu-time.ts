// CPU time a process has used so far (user + system, all its threads), from /proc on Linux. bench:backend reads it
// for a backend around each measurement: requests per CPU-second barely move when other tenants of a shared machine
// take cores away, so it cross-checks the wall-clock throughput on a noisy host.

import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The name and CPU ms (user + system) in a /proc `stat` line of a process or thread. */
function parseStat(stat: string): { name: string; cpuMs: number } {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th after ')'.
  const close = stat.lastIndexOf(') ');
  const after = stat.slice(close + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, close),
    cpuMs: ((Number(after[11]) + Number(after[12])) * 1000) / TICKS_PER_SECOND,
  };
}

/** CPU ms used by process `pid`, or null where /proc is not available. */
export function processCpuMs(pid: number): number | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuMs;
  } catch {
    return null;
  }
}

/** CPU ms of each thread of process `pid` so far, keyed `main` or `name:tid` (threads that ended are left out). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, cpuMs } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      out.set(tid === String(pid) ? 'main' : `${name}:${tid}`, cpuMs);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}
