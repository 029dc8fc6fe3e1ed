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
  /**
   * Moves one thread (its tid, e.g. from `/proc/thread-self` inside a worker thread) into the group (cgroup v1's
   * `tasks` file), leaving the process's other threads where they are.
   */
  addThread(tid: number): void;
  /** Removes the group (its processes must have exited or been moved out). */
  remove(): void;
  /** Label for reports, saying how the condition was produced. */
  describe(): string;
}

export function cpuQuotaAvailable(): boolean {
  return existsSync(join(ROOT, 'cpu.cfs_quota_us')) && process.getuid?.() === 0;
}

/** The kernel refuses a CFS quota below 1 ms and a period above 1 s. */
const MIN_QUOTA_US = 1000;
const MAX_PERIOD_US = 1_000_000;

/**
 * The period and quota that grant exactly `fraction` of a core. A small fraction cannot use the short period (the
 * quota would fall below the kernel's 1 ms floor and silently grant more), so the period stretches until the
 * quota is 1 ms: 5 % runs 1 ms in every 20 ms, 1 % 1 ms in every 100 ms.
 */
export function cfsSettings(fraction: number, periodUs = 10_000): { periodUs: number; quotaUs: number } {
  if (!(fraction > 0 && fraction <= 64))
    throw new RangeError(`CPU fraction must be in (0, 64], got ${fraction}`);
  const period = Math.min(MAX_PERIOD_US, Math.max(periodUs, Math.ceil(MIN_QUOTA_US / fraction)));
  const quota = Math.round(fraction * period);
  if (quota < MIN_QUOTA_US)
    throw new RangeError(`CPU fraction ${fraction} is below what CFS can grant (1 ms per 1 s = 0.001)`);
  return { periodUs: period, quotaUs: quota };
}

/**
 * @param fraction share of one core, e.g. 0.25; may exceed 1 for several cores.
 * @param periodUs preferred CFS period. Short periods (10 ms) throttle smoothly, so a 5 ms job is slowed rather than
 *   run whole inside one long period's budget; it is stretched only where the 1 ms quota floor demands it.
 */
export function createCpuQuota(name: string, fraction: number, periodUs = 10_000): CpuQuota {
  const cfs = cfsSettings(fraction, periodUs);
  if (!cpuQuotaAvailable()) {
    throw new Error(`CPU quota emulation needs root and cgroup v1's cpu controller at ${ROOT}`);
  }
  const path = join(ROOT, `spinn-${name}-${process.pid}`);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'cpu.cfs_period_us'), String(cfs.periodUs));
  writeFileSync(join(path, 'cpu.cfs_quota_us'), String(cfs.quotaUs));
  return {
    fraction,
    path,
    add(pid) {
      writeFileSync(join(path, 'cgroup.procs'), String(pid));
    },
    addThread(tid) {
      writeFileSync(join(path, 'tasks'), String(tid));
    },
    remove() {
      try {
        // Anything still inside goes back to the root group first, or rmdir fails with EBUSY (thread by thread:
        // a group may hold single threads of a process whose other threads are elsewhere).
        for (const tid of readFileSync(join(path, 'tasks'), 'utf8').split('\n').filter(Boolean)) {
          try {
            writeFileSync(join(ROOT, 'tasks'), tid);
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
      return `cgroup v1 cpu.cfs_quota_us = ${cfs.quotaUs} per ${cfs.periodUs} µs period (${(fraction * 100).toFixed(0)} % of one core)`;
    },
  };
}
