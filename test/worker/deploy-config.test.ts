// What `wrangler deploy --env production` would publish, checked without a Cloudflare account: wrangler's own reading
// of wrangler.toml (production names no backend, requires its secrets, and repeats the bindings wrangler does not
// inherit), the npm scripts that bundle both configurations, the generated binding types being current, and the
// production configuration in real workerd refusing to serve until BACKENDS (or BACKEND_URL) is set.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_readConfig, type Unstable_Config as WranglerConfig } from 'wrangler';
import { SITE_CONFIG } from '../../harness/stack.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';

const TOML = join(REPO_ROOT, 'wrangler.toml');
const top: WranglerConfig = unstable_readConfig({ config: TOML, env: undefined });
const production: WranglerConfig = unstable_readConfig({ config: TOML, env: 'production' });
const SITE_TOML = join(REPO_ROOT, SITE_CONFIG);
const siteTop: WranglerConfig = unstable_readConfig({ config: SITE_TOML, env: undefined });
const siteProduction: WranglerConfig = unstable_readConfig({ config: SITE_TOML, env: 'production' });

/** Runs an npm script of this package the way a user does; fails the test with its output if it fails. */
function npmRun(script: string, ...args: string[]): string {
  const r = spawnSync('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm run ${script} failed (${r.status}):\n${out}`);
  return out;
}

describe('wrangler.toml as wrangler reads it', () => {
  it('production names no backend and makes its backend list and secrets required', () => {
    expect(production.name).toBe('spinn-edge-production');
    expect(production.secrets?.required).toEqual(
      expect.arrayContaining(['BACKENDS', 'BACKEND_TOKEN', 'API_KEYS']),
    );
    for (const config of [top, production]) {
      expect(config.vars, config.name).not.toHaveProperty('BACKEND_URL');
      expect(config.vars, config.name).not.toHaveProperty('BACKENDS');
      for (const [name, value] of Object.entries(config.vars)) {
        expect(String(value), `${config.name} var ${name}`).not.toMatch(/127\.0\.0\.1|localhost|\[::1\]/);
      }
    }
  });

  it('production repeats what environments do not inherit, and inherits the rest', () => {
    // Not inherited by wrangler: vars, Durable Object bindings, rate limits. They must match the top level's, which
    // the tests and local development run with.
    expect(production.vars).toEqual(top.vars);
    expect(production.durable_objects).toEqual(top.durable_objects);
    expect(production.durable_objects.bindings.map((b) => b.name)).toEqual(['REQUEST_STATE']);
    const limit = (c: WranglerConfig) => c.ratelimits.map(({ namespace_id, ...rest }) => rest);
    expect(limit(production)).toEqual(limit(top));
    // Its own counters: a test deployment of the top level must not spend production's budget.
    expect(production.ratelimits[0]!.namespace_id).not.toBe(top.ratelimits[0]!.namespace_id);
    // Inherited: migrations (the Durable Object's SQLite class) and observability.
    expect(production.migrations).toEqual(top.migrations);
    expect(production.migrations[0]).toMatchObject({ new_sqlite_classes: ['RequestState'] });
    // v2: one object per shard of ids replaces one per id (worker/README.md, "Shards").
    expect(production.migrations[1]).toMatchObject({
      new_sqlite_classes: ['RequestShard'],
      deleted_classes: ['RequestState'],
    });
    expect(production.observability).toMatchObject({ enabled: true });
    expect(production.alias).toEqual(top.alias);
  });

  it('the edge has no assets router in front of it, and each environment binds its own site Worker', () => {
    // The static site is a Worker of its own (site/wrangler.toml says why): the edge has no [assets] to route through.
    for (const config of [top, production]) {
      expect(config.assets, config.name).toBeUndefined();
      expect(config.build.command, config.name).toBeUndefined();
    }
    for (const [edge, site] of [
      [top, siteTop],
      [production, siteProduction],
    ] as const) {
      expect(edge.services).toEqual([{ binding: 'ASSETS', service: site.name }]);
      expect(site.main, site.name).toBeUndefined();
      expect(resolve(dirname(SITE_TOML), site.assets!.directory!)).toBe(join(REPO_ROOT, 'dist/site'));
      // No [build]: a custom build of this auxiliary Worker took wrangler's inspector away from the edge
      // (site/wrangler.toml); `npm run deploy:site` builds the site first.
      expect(site.build.command, site.name).toBeUndefined();
    }
    expect(siteProduction.name).toBe('spinn-site-production');
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts['deploy:site']).toBe(
      'npm run build:web && wrangler deploy -c site/wrangler.toml --env production',
    );
    expect(scripts['worker:dev']).toMatch(
      /^npm run build:web && wrangler dev -c wrangler\.toml -c site\/wrangler\.toml$/,
    );
  });

  it('worker/worker-configuration.d.ts is what `npm run worker:types` generates now', () => {
    expect(npmRun('worker:types', '--check')).toMatch(/up to date/);
    // env.ts builds on the generated interface rather than repeating the bindings.
    expect(readFileSync(join(REPO_ROOT, 'worker/env.ts'), 'utf8')).toMatch(
      /interface Env extends Cloudflare\.Env/,
    );
  });

  it('`npm run worker:build` and `npm run worker:build:production` bundle the worker for workerd', () => {
    for (const [script, outDir] of [
      ['worker:build', 'dist/worker'],
      ['worker:build:production', 'dist/worker-production'],
    ] as const) {
      const out = npmRun(script);
      expect(out, script).toMatch(/env\.REQUEST_STATE \(RequestShard\)\s+Durable Object/);
      expect(out, script).toMatch(/env\.KEY_RATE_LIMIT/);
      expect(out, script).not.toMatch(/BACKEND_URL/);
      const bundle = readFileSync(join(REPO_ROOT, outDir, 'index.js'), 'utf8');
      // workerd forbids code generation: msgpackr's no-eval build (wrangler.toml [alias]) in every environment.
      expect(bundle, script).toContain('index-no-eval');
      expect(bundle, script).not.toContain('new Function');
    }
  });
});

describe('the production configuration in workerd', () => {
  let backend: FakeBackend;
  let unset: RunningWorker;
  let set: RunningWorker;
  const TOKEN = 'deploy-config-token';

  beforeAll(async () => {
    backend = await startFakeBackend();
    unset = await startWorker({ environment: 'production', backendUrl: null, backendToken: TOKEN });
    set = await startWorker({ environment: 'production', backendUrl: backend.url, backendToken: TOKEN });
  });
  afterAll(async () => {
    await unset?.stop();
    await set?.stop();
    await backend?.close();
  });

  const plan = (w: RunningWorker) =>
    fetch(`${w.url}/v1/plan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...w.auth },
      body: JSON.stringify({ modelId: 'resnet56-fmnist' }),
    });

  it('without BACKENDS it refuses backend routes with a 503 that says what to set', async () => {
    const res = await plan(unset);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /BACKENDS is not set.*wrangler secret put BACKENDS --env production/,
    );
    const health = (await (await fetch(`${unset.url}/healthz`)).json()) as Record<string, any>;
    expect(health).toMatchObject({ status: 'degraded', backend: { url: null, reachable: false } });
    // The public catalogue does not need the backend and keeps working.
    expect((await fetch(`${unset.url}/v1/models`)).status).toBe(200);
  });

  it('with BACKEND_URL set (a fleet of one) it reaches that backend with the token', async () => {
    const res = await plan(set);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ backend: { reachable: true } });
    const health = (await (await fetch(`${set.url}/healthz`)).json()) as Record<string, any>;
    expect(health).toMatchObject({ status: 'ok', backend: { url: backend.url, tokenConfigured: true } });
  });
});
