// Starts the worker with `wrangler dev` (what the demo and a developer run), in its own process group so stop()
// can signal the whole group: killing only npx/wrangler leaves workerd children behind. Slower to start (~2-3 s)
// than start-worker.ts's Miniflare, but exercises wrangler's own dev pipeline (.dev.vars, live config).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './start-worker.js';

export interface WranglerDev {
  url: string;
  startupMs: number;
  /** Process group id (= pid of the wrangler process); stop() signals the whole group. */
  pgid: number;
  /** Everything wrangler printed so far (for diagnosing a failed start). */
  output(): string;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  port: number;
  /** Overrides of wrangler.toml [vars] (passed as --var NAME:VALUE). */
  vars?: Record<string, string>;
  inspectorPort?: number;
  timeoutMs?: number;
}

export async function startWranglerDev(opts: WranglerDevOptions): Promise<WranglerDev> {
  const started = performance.now();
  const args = [
    join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--inspector-port',
    String(opts.inspectorPort ?? opts.port + 1),
    ...Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 3_000);
    await exited;
    clearTimeout(killer);
  };

  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${out}`);
    if (/Ready on http/.test(out)) {
      try {
        const res = await fetch(`${url}/v1/models`);
        await res.arrayBuffer();
        if (res.ok)
          return { url, startupMs: performance.now() - started, pgid: child.pid!, output: () => out, stop };
      } catch {
        /* not accepting yet */
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready in time:\n${out}`);
}
