// What the hostile tests watch about the services as processes (Linux /proc): resident memory, whether a process
// is still the same one (no restart), the workerd processes Miniflare started, and how much a storage folder holds.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Resident set size of a process, bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process's start time in clock ticks since boot: the same pid with another start time is another process. */
export function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

/** Descendants of `root` whose command name contains `name` (e.g. the workerd that Miniflare runs). */
export function descendants(root: number, name: string): number[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      /* exited while we looked */
    }
  }
  const isUnder = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...comm].filter(([pid, c]) => c.includes(name) && isUnder(pid)).map(([pid]) => pid);
}

/** Bytes of all files under a folder. */
export function folderBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else total += s.size;
    }
  };
  try {
    walk(dir);
  } catch {
    /* not created yet */
  }
  return total;
}
