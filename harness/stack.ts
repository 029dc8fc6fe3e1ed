// Starts the real SPINN-TS stack on loopback — one or more inference backends (Node + onnxruntime-node) and the edge
// worker under `wrangler dev` (local workerd) with fresh API keys, as deployed — for the demo, the integration tests
// and the benchmarks, and stops it cleanly. Each service runs in its own process group and is stopped by signalling the group, because killing only
// `npx` leaves workerd children behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BACKEND_NODE_FLAGS } from '../gpu-backend/node-flags.js';
import { bearer, makeApiKeys } from './api-keys.js';
import { createCpuQuota } from './cpu-quota.js';
import { buildSite } from '../tools/web/build-site.js';

const ROOT = new URL('..', import.meta.url).pathname;

export interface Service {
  url: string;
  pid: number;
  /** Output so far (for diagnosing a failed start). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function launch(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, log: () => out };
}

async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* group already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  signal('SIGKILL'); // anything the leader left behind in its group
}

async function waitReady(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new Error(`service exited (${child.exitCode}) before ready:\n${log().slice(-3000)}`);
    try {
      const r = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`service at ${url} not ready after ${timeoutMs} ms:\n${log().slice(-3000)}`);
}

export interface BackendOptions {
  port?: number;
  token?: string;
  workers?: number;
  threads?: number;
  /** Throttle the backend to this share of one core (cgroup v1 CFS quota; needs root). */
  cpuFraction?: number;
  /** Start it with --test-hooks (the /test/hold gate; gpu-backend/test-hooks.ts). Tests only. */
  testHooks?: boolean;
  extraArgs?: string[];
}

export async function startBackend(o: BackendOptions = {}): Promise<Service> {
  const port = o.port ?? (await freePort());
  const args = [
    ...BACKEND_NODE_FLAGS,
    '--import',
    'tsx',
    'gpu-backend/main.ts',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
  ];
  if (o.token) args.push('--token', o.token);
  if (o.workers) args.push('--workers', String(o.workers));
  if (o.threads) args.push('--threads', String(o.threads));
  if (o.testHooks) args.push('--test-hooks');
  args.push(...(o.extraArgs ?? []));
  const { child, log } = launch(process.execPath, args, {});
  const quota = o.cpuFraction ? createCpuQuota(`backend-${port}`, o.cpuFraction) : undefined;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopGroup(child);
    quota?.remove();
  };
  try {
    await waitReady(
      `${url}/health`,
      child,
      log,
      60_000,
      o.token ? { authorization: `Bearer ${o.token}` } : {},
    );
  } catch (e) {
    await stop();
    throw e;
  }
  // Throttled only once it serves: the quota emulates a slow server at work, and loading the models at 5 % of a
  // core would only make the tests wait. cgroup.procs moves every thread, the inference workers included.
  quota?.add(child.pid!);
  return { url, pid: child.pid!, log, stop };
}

export interface EdgeOptions {
  port?: number;
  /** The one backend (BACKEND_URL), or give `backends`. */
  backendUrl?: string;
  /** The fleet: BACKENDS entries, `url[;weight=w][;name=n]` (worker/backends-config.ts); wins over backendUrl. */
  backends?: string[];
  token?: string;
  /** API keys the edge accepts (named key0, key1, …): a count of fresh keys (default 1) or the keys. */
  apiKeys?: number | string[];
  vars?: Record<string, string>;
  /**
   * Another wrangler configuration to run the same way (bench:hop's pass-through worker, an older edge), alone or
   * with `siteConfig`; default the edge: wrangler.toml with the site Worker (site/wrangler.toml).
   */
  config?: string;
  /** The site Worker's configuration to run beside `config` (bench:hop's older edges); default none. */
  siteConfig?: string;
  /**
   * Static-assets folder for the site Worker instead of dist/site: e.g. the evaluation's manifests whose profile was
   * computed on a calibration half of the test split. Only with the default `config`.
   */
  assets?: string;
}

export interface EdgeService extends Service {
  /** The API keys the edge accepts, in clear. */
  apiKeys: string[];
  /** wrangler's DevTools inspector for the worker (`ws://127.0.0.1:<port>/`; bench/hop/profile-edge.ts profiles it). */
  inspectorPort: number;
}

/** The site Worker's wrangler configuration (static assets only; site/wrangler.toml says why it is separate). */
export const SITE_CONFIG = 'site/wrangler.toml';

/**
 * A copy of the site Worker's configuration that serves `dir` instead of dist/site, written into `into`: the same
 * Worker name (the edge's ASSETS binding names it).
 */
export function siteConfigServing(dir: string, into: string): string {
  const path = join(into, 'site.wrangler.toml');
  writeFileSync(path, siteConfigWith(readFileSync(join(ROOT, SITE_CONFIG), 'utf8'), { directory: dir }));
  return path;
}

/**
 * A site Worker configuration's text with its assets folder (absolute, so the copy may live anywhere) and optionally
 * its Worker name replaced (bench:hop's older edges run their own site beside this tree's).
 */
export function siteConfigWith(toml: string, o: { directory: string; name?: string }): string {
  const text = toml.replace(/^directory = ".*"$/m, `directory = ${JSON.stringify(resolve(o.directory))}`);
  return o.name ? text.replace(/^name = ".*"$/m, `name = ${JSON.stringify(o.name)}`) : text;
}

/** `wrangler dev` on loopback: the real worker in local workerd, with its own throwaway state folder. */
export async function startEdge(o: EdgeOptions): Promise<EdgeService> {
  const port = o.port ?? (await freePort());
  const inspector = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'spinn-wrangler-'));
  const keys = await makeApiKeys(o.apiKeys ?? 1);
  // The first configuration is the worker wrangler exposes; the others run beside it, reached by service bindings.
  // The site is built here, not by wrangler (site/wrangler.toml says why it has no [build]).
  if (!o.config && !o.assets) await buildSite({ quiet: true });
  const configs = o.config
    ? [join(ROOT, o.config), ...(o.siteConfig ? [join(ROOT, o.siteConfig)] : [])]
    : [join(ROOT, 'wrangler.toml'), o.assets ? siteConfigServing(o.assets, state) : join(ROOT, SITE_CONFIG)];
  const vars = {
    ...(o.backends ? { BACKENDS: o.backends.join(',') } : { BACKEND_URL: o.backendUrl ?? '' }),
    ...(o.token ? { BACKEND_TOKEN: o.token } : {}),
    // Hashes only: the keys themselves never leave this process.
    ...(keys.keys.length ? { API_KEYS: keys.apiKeysVar } : {}),
    ...(o.vars ?? {}),
  };
  const args = [
    join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    ...configs.flatMap((c) => ['--config', c]),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspector),
    '--persist-to',
    state,
    '--log-level',
    'warn',
    '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const { child, log } = launch(process.execPath, args, { WRANGLER_SEND_METRICS: 'false', CI: 'true' });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopGroup(child);
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitReady(`${url}/healthz`, child, log, 90_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, pid: child.pid!, log, stop, apiKeys: keys.keys, inspectorPort: inspector };
}

export interface Stack {
  /** The first backend (the only one unless `backends` asked for more). */
  backend: Service;
  /** Every backend, named `backend-<index>` at the edge (BACKENDS in that order). */
  backends: Service[];
  edge: EdgeService;
  token: string;
  /** The edge's first API key, for clients (`SpinnClient({ apiKey })`). */
  apiKey: string;
  /** `authorization` header presenting `apiKey`, for raw requests to the edge. */
  edgeHeaders: Record<string, string>;
  stop(): Promise<void>;
}

export async function startStack(
  o: {
    backend?: BackendOptions;
    edgeVars?: Record<string, string>;
    edgePort?: number;
    /** API keys of the edge: a count of fresh keys (default 1) or the keys (see EdgeOptions). */
    apiKeys?: number | string[];
    /** How many backends (default 1), each started with `backend`'s options; the edge gets them as BACKENDS. */
    backendCount?: number;
    /** The edge's static-assets folder instead of dist/site (see EdgeOptions). */
    edgeAssets?: string;
  } = {},
): Promise<Stack> {
  const token = o.backend?.token ?? `dev-${Math.random().toString(36).slice(2)}`;
  const count = o.backendCount ?? 1;
  // A fixed port only makes sense for a single backend.
  const { port, ...shared } = o.backend ?? {};
  const started = await Promise.allSettled(
    Array.from({ length: count }, () =>
      startBackend({ ...shared, token, ...(count === 1 && port ? { port } : {}) }),
    ),
  );
  const backends = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(backends.map((b) => b.stop()));
    throw failed.reason;
  }
  const backend = backends[0]!;
  let edge: EdgeService;
  try {
    edge = await startEdge({
      ...(count === 1 ? { backendUrl: backend.url } : { backends: backends.map((b) => b.url) }),
      token,
      apiKeys: o.apiKeys ?? 1,
      ...(o.edgeVars ? { vars: o.edgeVars } : {}),
      ...(o.edgePort ? { port: o.edgePort } : {}),
      ...(o.edgeAssets ? { assets: o.edgeAssets } : {}),
    });
  } catch (e) {
    await Promise.all(backends.map((b) => b.stop()));
    throw e;
  }
  const apiKey = edge.apiKeys[0] ?? '';
  const stack: Stack = {
    backend,
    backends,
    edge,
    token,
    apiKey,
    edgeHeaders: apiKey ? bearer(apiKey) : {},
    // Stops the services the stack holds now: an experiment may have replaced a killed backend with a new one.
    async stop() {
      await stack.edge.stop();
      await Promise.all([...new Set([stack.backend, ...stack.backends])].map((b) => b.stop()));
    },
  };
  return stack;
}
