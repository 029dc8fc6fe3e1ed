// The CPU quota is what makes the emulated device (and the throttled backend in the cancel tests) really slower;
// these tests pin the CFS arithmetic, including the 1 ms quota floor that once turned a requested 5 % into 10 %,
// and measure that a throttled process really gets its share.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cfsSettings, cpuQuotaAvailable, createCpuQuota } from '../../harness/cpu-quota.js';

describe('cfsSettings', () => {
  it('keeps the preferred 10 ms period where the quota stays at or above 1 ms', () => {
    expect(cfsSettings(0.1)).toEqual({ periodUs: 10_000, quotaUs: 1000 });
    expect(cfsSettings(0.25)).toEqual({ periodUs: 10_000, quotaUs: 2500 });
    expect(cfsSettings(2)).toEqual({ periodUs: 10_000, quotaUs: 20_000 });
  });

  it('stretches the period for small fractions instead of granting more than asked', () => {
    expect(cfsSettings(0.05)).toEqual({ periodUs: 20_000, quotaUs: 1000 });
    expect(cfsSettings(0.01)).toEqual({ periodUs: 100_000, quotaUs: 1000 });
    expect(cfsSettings(0.001)).toEqual({ periodUs: 1_000_000, quotaUs: 1000 });
  });

  it('refuses fractions CFS cannot grant', () => {
    expect(() => cfsSettings(0)).toThrow(/CPU fraction/);
    expect(() => cfsSettings(-1)).toThrow(/CPU fraction/);
    expect(() => cfsSettings(0.0005)).toThrow(/below what CFS can grant/);
    expect(() => cfsSettings(Number.NaN)).toThrow(/CPU fraction/);
  });
});

describe.skipIf(!cpuQuotaAvailable())('createCpuQuota on this machine', () => {
  it('gives a busy process about the share it asked for', async () => {
    const quota = createCpuQuota('quota-test', 0.05);
    try {
      // The child spins for 1 s of wall time and reports the CPU time it got.
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const t0 = Date.now(); const c0 = process.cpuUsage();
           while (Date.now() - t0 < 1000) {}
           const c = process.cpuUsage(c0); console.log((c.user + c.system) / 1000 / (Date.now() - t0));`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      quota.add(child.pid!);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((resolve) => child.on('exit', resolve));
      const share = Number(out.trim());
      console.log(
        `[cpu-quota] ${quota.describe()}: busy child got ${(share * 100).toFixed(1)} % of its wall time`,
      );
      // Node's own start-up runs before the child joins the group, so allow some slack above 5 %.
      expect(share).toBeGreaterThan(0.02);
      expect(share).toBeLessThan(0.09);
    } finally {
      quota.remove();
    }
  });

  it('throttles one thread of a process and leaves the others at full speed', async () => {
    const quota = createCpuQuota('thread-test', 0.05);
    try {
      // The child's worker thread says its tid, waits for 'go' on stdin, then it and the main thread both count
      // loop turns for 1 s of wall time; the child prints worker turns / main turns.
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const { Worker } = require('node:worker_threads');
           const spin = 'let n = 0; const t0 = Date.now(); while (Date.now() - t0 < 1000) n++;';
           const w = new Worker(\`const { parentPort } = require('node:worker_threads');
             parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self'));
             parentPort.once('message', () => { \${spin} parentPort.postMessage(n); });\`, { eval: true });
           w.once('message', (tid) => {
             console.log(tid.split('/').pop());
             process.stdin.once('data', () => {
               w.postMessage('go');
               eval(spin + 'globalThis.mainTurns = n;');
               w.once('message', (n) => { console.log(n / globalThis.mainTurns); process.exit(0); });
             });
           });`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (!out.includes('\n')) return;
          clearInterval(poll);
          resolve();
        }, 10);
      });
      quota.addThread(Number(out.split('\n')[0]));
      child.stdin.write('go\n');
      await new Promise((resolve) => child.on('exit', resolve));
      const ratio = Number(out.trim().split('\n')[1]);
      console.log(`[cpu-quota] throttled worker thread / main thread loop turns: ${ratio.toFixed(3)}`);
      // 5 % of a core against a main thread that is not throttled (at least a shared core's share of it).
      expect(ratio).toBeGreaterThan(0);
      expect(ratio).toBeLessThan(0.5);
    } finally {
      quota.remove();
    }
  });
});
