// Builds the edge worker exactly as it deploys (`wrangler deploy --dry-run`) and runs the bundle in real workerd
// through Miniflare, configured from wrangler.toml (bindings, Durable Object) with per-test overrides, beside the site
// Worker it binds as ASSETS (site/wrangler.toml: the static assets).
// The bundle is cached under node_modules/.cache keyed by the sources' hash, so only the first test file of a run
// pays the ~2 s build; each start then takes a fraction of a second. Reused by full-stack tests. Like a deployment,
// it serves the built site (dist/site: models without their training folders, the client bundle, the demo page)
// and requires API keys: one fresh key by default (`worker.auth` carries it).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { bearer, makeApiKeys } from '../../harness/api-keys.js';
import { SITE_CONFIG } from '../../harness/stack.js';
import { buildSite } from '../../tools/web/build-site.js';
import { rememberAuth } from './wire-helpers.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What wrangler runs for a Worker with assets and no script (its templates/no-op-worker.js). */
const ASSETS_ONLY_SCRIPT = `export default { fetch() { return new Response('Not found', { status: 404 }); } };`;

export interface StartWorkerOptions {
  /** Base URL of the backend's internal API (e.g. http://127.0.0.1:8790); null sets no BACKEND_URL at all. */
  backendUrl: string | null;
  /** BACKENDS entries (`url[;weight=w][;name=n]`), for a fleet; BACKENDS wins over BACKEND_URL. */
  backends?: string[];
  /** A wrangler environment of wrangler.toml (`production`): its bindings and its bundle; default the top level. */
  environment?: string;
  /** Sent as `authorization: Bearer <token>` to the backend; default none. */
  backendToken?: string;
  /** Assets folder; default the built site (dist/site, what deploys). */
  assetsDir?: string;
  /**
   * API keys the worker accepts (named key0, key1, …): a count of fresh keys (default 1) or the keys themselves.
   * 0 configures none (the worker then fails closed unless ALLOW_NO_KEYS_ON_LOOPBACK is set in `vars`).
   */
  apiKeys?: number | string[];
  /** Overrides wrangler.toml's [[ratelimits]] KEY_RATE_LIMIT (per key; period 10 or 60 s). */
  rateLimit?: { limit: number; period: 10 | 60 };
  /** Any other var overrides (MODELS, MAX_OFFLOAD_BYTES, BACKEND_TIMEOUT_MS). */
  vars?: Record<string, string>;
  /** Port to listen on (127.0.0.1); default a free one. */
  port?: number;
  /** Keep Durable Object storage in this folder (survives stop/start); default in memory. */
  persistDir?: string;
}

export interface RunningWorker {
  /** Base URL, no trailing slash. */
  url: string;
  /** Milliseconds from `new Miniflare` to ready (bundle already built). */
  startupMs: number;
  miniflare: Miniflare;
  /** The keys configured (in clear). */
  apiKeys: string[];
  /** `authorization` header presenting the first key (empty when none is configured). */
  auth: Record<string, string>;
  stop(): Promise<void>;
}

function sourceHash(environment: string | undefined): string {
  const h = createHash('sha256').update(environment ?? '');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(relative(REPO_ROOT, p)).update(readFileSync(p));
    }
  };
  walk(join(REPO_ROOT, 'worker'));
  walk(join(REPO_ROOT, 'core'));
  for (const f of ['wrangler.toml', 'package-lock.json']) {
    const p = join(REPO_ROOT, f);
    if (existsSync(p)) h.update(f).update(readFileSync(p));
  }
  return h.digest('hex').slice(0, 16);
}

/** Bundles the worker with wrangler (cached by source hash) and returns the path of the ES module. */
export function buildWorker(environment?: string): string {
  const outDir = join(REPO_ROOT, 'node_modules', '.cache', 'spinn-worker', sourceHash(environment));
  const script = join(outDir, 'index.js');
  if (existsSync(script)) return script;
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(outDir), { recursive: true });
  const r = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
      'deploy',
      '--dry-run',
      '--outdir',
      tmp,
      `--env=${environment ?? ''}`, // '' = the top level, said explicitly (wrangler warns otherwise)
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } },
  );
  if (r.status !== 0) throw new Error(`wrangler build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  try {
    renameSync(tmp, outDir);
  } catch (e) {
    // Another process finished the same build first; its output is identical.
    if (!existsSync(script)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  return script;
}

export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const script = buildWorker(opts.environment);
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
  const assets = opts.assetsDir ?? (await buildSite({ quiet: true }));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(
    join(REPO_ROOT, 'wrangler.toml'),
    opts.environment,
  );
  // The site Worker the edge binds as ASSETS (site/wrangler.toml): assets only, so it gets the script wrangler gives
  // such a Worker (a 404 for what is not a file).
  const site = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, SITE_CONFIG), opts.environment, {
    overrides: { assets: { directory: assets } },
  });
  const keys = await makeApiKeys(opts.apiKeys ?? 1);
  const bindings: Record<string, unknown> = {
    ...(workerOptions.bindings ?? {}),
    BACKEND_URL: opts.backendUrl,
    ...(opts.backends ? { BACKENDS: opts.backends.join(',') } : {}),
    ...(opts.backendToken !== undefined ? { BACKEND_TOKEN: opts.backendToken } : {}),
    ...(keys.keys.length ? { API_KEYS: keys.apiKeysVar } : {}),
    ...(opts.vars ?? {}),
  };
  // wrangler fills an environment's required secrets from process.env: "no backend" must mean none at all.
  if (opts.backendUrl === null) delete bindings.BACKEND_URL;
  if (!opts.backends) delete bindings.BACKENDS;
  const ratelimits = opts.rateLimit ? { ratelimits: { KEY_RATE_LIMIT: { simple: opts.rateLimit } } } : {};
  const started = performance.now();
  const siteName = site.workerOptions.name ?? 'spinn-site';
  const miniflare = new Miniflare({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    durableObjectsPersist: opts.persistDir ?? false,
    workers: [
      {
        ...workerOptions,
        name: 'spinn-edge',
        bindings: bindings as never,
        serviceBindings: { ASSETS: siteName },
        modules: true,
        scriptPath: script,
        ...ratelimits,
      },
      { ...site.workerOptions, name: siteName, modules: true, script: ASSETS_ONLY_SCRIPT },
    ],
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = (await miniflare.ready).toString().replace(/\/$/, '');
  const startupMs = performance.now() - started;
  const auth = keys.keys[0] ? bearer(keys.keys[0]) : {};
  rememberAuth(url, auth);
  return { url, startupMs, miniflare, apiKeys: keys.keys, auth, stop: () => miniflare.dispose() };
}
