// Emulates a slower machine for real: puts a process (all its threads) into a cgroup v1 CPU controller group with
// a CFS quota, so it gets only `fraction` of one core. Used to make the "device" slower than the server in the
// evaluation, and to slow the backend in tests that must cancel it mid-run. Needs root and cgroup v1's cpu
// controller at /sys/fs/cgroup/cpu (as on these machines); it says so clearly otherwise.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup/cpu';

export interface CpuQuota {
  /** Share of one core granted (quota / period). */
  readonly fraction: number;
  readonly path: string;
  /** Moves a process, with all its threads, into the group. */
  add(pid: number): void;
  /** Removes the group (its processes must have exited or been moved out). */
  remove(): void;
  /** Label for reports, saying how the condition was produced. */
  describe(): string;
}

export function cpuQuotaAvailable(): boolean {
  return existsSync(join(ROOT, 'cpu.cfs_quota_us')) && process.getuid?.() === 0;
}

/**
 * @param fraction share of one core, e.g. 0.25; may exceed 1 for several cores.
 * @param periodUs CFS period. Short periods (10 ms) throttle smoothly, so a 5 ms job is slowed rather than run
 *   whole inside one long period's budget.
 */
export function createCpuQuota(name: string, fraction: number, periodUs = 10_000): CpuQuota {
  if (!(fraction > 0 && fraction <= 64))
    throw new RangeError(`CPU fraction must be in (0, 64], got ${fraction}`);
  if (!cpuQuotaAvailable()) {
    throw new Error(`CPU quota emulation needs root and cgroup v1's cpu controller at ${ROOT}`);
  }
  const path = join(ROOT, `spinn-${name}-${process.pid}`);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'cpu.cfs_period_us'), String(periodUs));
  writeFileSync(join(path, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(fraction * periodUs))));
  return {
    fraction,
    path,
    add(pid) {
      writeFileSync(join(path, 'cgroup.procs'), String(pid));
    },
    remove() {
      try {
        // Anything still inside goes back to the root group first, or rmdir fails with EBUSY.
        for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            writeFileSync(join(ROOT, 'cgroup.procs'), pid);
          } catch {
            /* exited meanwhile */
          }
        }
        rmdirSync(path);
      } catch {
        /* already gone */
      }
    },
    describe() {
      return `cgroup v1 cpu.cfs_quota_us = ${Math.round(fraction * periodUs)} per ${periodUs} µs period (${(fraction * 100).toFixed(0)} % of one core)`;
    },
  };
}
