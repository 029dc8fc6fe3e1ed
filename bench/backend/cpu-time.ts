// CPU time a process has used so far (user + system, all its threads), from /proc on Linux. bench:backend reads it
// for a backend around each measurement: requests per CPU-second barely move when other tenants of a shared machine
// take cores away, so it cross-checks the wall-clock throughput on a noisy host.

import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU ms used by process `pid`, or null where /proc is not available. */
export function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th after ')'.
    const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(after[11]) + Number(after[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
