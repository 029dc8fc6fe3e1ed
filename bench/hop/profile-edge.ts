// Where the edge's own CPU goes on an offload: starts a backend and the worker under `wrangler dev` (and, for the
// floor, the pass-through worker), sends the same steady-state offload sequentially, and reports (1) the CPU time per
// request from /proc for each worker — of its whole `wrangler dev` process tree, and of the one workerd thread that
// runs the worker and its Durable Objects — so the edge's extra CPU over a bare hop is measured, not inferred from
// latency, and (2) a V8 CPU profile of the worker's isolate taken through wrangler's DevTools inspector, its self
// time summed by function and by file. `npx tsx bench/hop/profile-edge.ts [--requests 1000] [--top 30]`.
// The profile's time includes the Durable Objects' (they run in the worker's isolate under `wrangler dev`).

import { readFileSync, readdirSync } from 'node:fs';
import { Command } from 'commander';
import WebSocket from 'ws';
import { bearer } from '../../harness/api-keys.js';
import { startEdge, startStack } from '../../harness/stack.js';
import { WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { readModelManifest, realActivations } from '../real-activations.js';
import { steadyStateOffload } from './client-work.js';
import { materialiseWorker } from './old-worker.js';
import { startPassThrough } from '../pass-through/start.js';

const opts = new Command('profile-edge')
  .option('--requests <n>', 'offloads per measurement', Number, 1000)
  .option('--split <n>', 'split of the offload', Number, 5)
  .option('--top <n>', 'rows of the profile to print', Number, 30)
  .option('--interval <us>', 'V8 sampling interval, microseconds', Number, 250)
  .option('--no-profile', 'only the CPU per request, no V8 profile')
  .option(
    '--ab <refs>',
    "also the CPU per request of these commits' workers (comma-separated; see old-worker.ts)",
  )
  .parse()
  .opts<{ requests: number; split: number; top: number; interval: number; profile: boolean; ab?: string }>();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** CPU ms (user + system) of one /proc stat line: utime and stime, in USER_HZ ticks. */
function statCpuMs(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * (1000 / 100);
}

/** The pids of `rootPid` and all its descendants, parents first. */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(rootPid);
  return out;
}

/**
 * CPU ms of a `wrangler dev` process tree, all of it and the one thread every request of the worker runs on: the
 * main thread (named `workerd`, like its process) of the tree's last workerd process, the one running the user's
 * workers (the first runs wrangler's proxy). That thread's figure is this tool's most repeatable: the same worker
 * started twice measured 0.00–0.07 ms per request apart, the whole trees up to 0.2 ms.
 */
function treeCpuMs(rootPid: number): { total: number; workerThread: number } {
  let total = 0;
  let workerThread = 0;
  for (const pid of processTree(rootPid)) {
    try {
      total += statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'workerd') continue;
      workerThread = statCpuMs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
    } catch {
      // gone meanwhile
    }
  }
  return { total, workerThread };
}

/** Sends n offloads one after another; the API keys take turns (each key's rate limit is 600 per 10 s). */
async function offloads(url: string, keys: Record<string, string>[], body: () => Uint8Array, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...keys[i % keys.length], 'content-type': WIRE_CONTENT_TYPE },
      body: body() as unknown as BodyInit,
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`offload answered HTTP ${res.status}`);
  }
}

/** Sends a DevTools command and waits for its answer. */
function devtools(ws: WebSocket) {
  let next = 1;
  const waiting = new Map<number, (r: unknown) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    // wrangler's inspector proxy echoes `Profiler.enable` back instead of answering it: the echo settles it.
    if (m.id !== undefined) waiting.get(m.id)?.(m.error ? Promise.reject(m.error) : m.result);
  });
  return <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, resolve as (r: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
}

function summarise(p: Profile, top: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url.replace(/^.*\/(\.wrangler|node_modules)\//, '$1/').slice(-60) || '(native)';
    add(fn, `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`, ms);
    add(file, where, ms);
  }
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title} (self ms over the run; ${total.toFixed(0)} ms sampled)`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${v.toFixed(1).padStart(8)}  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  };
  // Inclusive time by function (a function's subtree; a recursive one counted once per path).
  const incl = new Map<string, number>();
  const walk = (id: number, onPath: Set<string>): number => {
    const n = byId.get(id)!;
    let t = self.get(id) ?? 0;
    const name = `${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const c of n.children ?? []) t += walk(c, onPath);
    if (fresh) {
      onPath.delete(name);
      add(incl, name, t);
    }
    return t;
  };
  walk(p.nodes[0]!.id, new Set());
  print('by function, self', fn);
  print('by function, inclusive', incl);
  print('by file', file);
}

/** A V8 CPU profile of the worker's isolate (through wrangler's inspector) while `work` runs, summarised. */
async function profileIsolate(inspectorPort: number, work: () => Promise<void>): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const send = devtools(ws);
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: opts.interval });
  await send('Profiler.start');
  await work();
  const { profile } = await send<{ profile: Profile }>('Profiler.stop');
  ws.close();
  console.log(`\nV8 profile of the worker's isolate over ${opts.requests} offloads:`);
  summarise(profile, opts.top);
}

const manifest = readModelManifest();
const [act] = await realActivations(manifest, opts.split);
const offload = steadyStateOffload(manifest, opts.split, act!);
const stack = await startStack({ backend: { workers: 1 }, apiKeys: 16 });
const edgeKeys = stack.edge.apiKeys.map((k) => bearer(k));
try {
  const pass = await startPassThrough(stack, 'plain');
  const olds: Awaited<ReturnType<typeof startEdge>>[] = [];
  try {
    const edgeUrl = `${stack.edge.url}/v1/infer`;
    // Every worker runs at once and takes turns, `rounds` times `requests / rounds` offloads each, so a drift in the
    // machine's load falls on all of them alike.
    const targets: { name: string; pid: number; url: string; keys: Record<string, string>[] }[] = [
      { name: 'pass-through', pid: pass.pid, url: pass.url, keys: [{}] },
      { name: "SPINN's worker", pid: stack.edge.pid, url: edgeUrl, keys: edgeKeys },
    ];
    for (const ref of opts.ab?.split(',') ?? []) {
      const old = await startEdge({
        backendUrl: stack.backend.url,
        token: stack.token,
        apiKeys: 16,
        ...materialiseWorker(ref),
      });
      olds.push(old);
      const keys = old.apiKeys.map((k) => bearer(k));
      targets.push({ name: `the worker at ${ref}`, pid: old.pid, url: `${old.url}/v1/infer`, keys });
    }
    const rounds = 10;
    const cpu = targets.map(() => ({ total: 0, workerThread: 0 }));
    for (const t of targets) await offloads(t.url, t.keys, offload.body, 100);
    for (let r = 0; r < rounds; r++)
      for (const [i, t] of targets.entries()) {
        const c0 = treeCpuMs(t.pid);
        await offloads(t.url, t.keys, offload.body, Math.ceil(opts.requests / rounds));
        const c1 = treeCpuMs(t.pid);
        cpu[i]!.total += c1.total - c0.total;
        cpu[i]!.workerThread += c1.workerThread - c0.workerThread;
      }
    const n = rounds * Math.ceil(opts.requests / rounds);
    const per = cpu.map((c) => ({ total: c.total / n, workerThread: c.workerThread / n }));
    const cell = (x: number, base: number) =>
      `${x.toFixed(3)} (${x >= base ? '+' : '−'}${Math.abs(x - base).toFixed(3)})`;
    console.log(
      'CPU ms per request (interleaved): the wrangler dev process tree; the worker thread of workerd',
    );
    targets.forEach((t, i) =>
      console.log(
        `  ${t.name.padEnd(40)} ${cell(per[i]!.total, per[0]!.total).padEnd(18)} ` +
          cell(per[i]!.workerThread, per[0]!.workerThread),
      ),
    );
    console.log(
      JSON.stringify({ requests: n, cpuMsPerRequest: targets.map((t, i) => ({ name: t.name, ...per[i]! })) }),
    );
    if (opts.profile)
      await profileIsolate(stack.edge.inspectorPort, () =>
        offloads(edgeUrl, edgeKeys, offload.body, opts.requests),
      );
  } finally {
    for (const old of olds) await old.stop();
    await pass.stop();
  }
} finally {
  await stack.stop();
}
