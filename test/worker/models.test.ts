// The model catalogue, manifest and ONNX files served from the assets by real workerd, plus /healthz and the
// OpenAPI document. A last suite runs against the repo's real ./models when its manifest exists.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/manifest.js';
import { PROTOCOL_VERSION } from '../../core/wire.js';
import { FIXTURE_MODEL_ID, writeFixtureAssets, type FixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';

let backend: FakeBackend;
let worker: RunningWorker;
let assets: FixtureAssets;

beforeAll(async () => {
  backend = await startFakeBackend();
  assets = writeFixtureAssets();
  mkdirSync(join(assets.dir, 'broken'));
  writeFileSync(
    join(assets.dir, 'broken', 'manifest.json'),
    JSON.stringify({ formatVersion: 1, id: 'broken' }),
  );
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: 'tok',
    assetsDir: assets.dir,
    vars: { MODELS: `${FIXTURE_MODEL_ID},broken,missing` },
  });
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

describe('models', () => {
  it('GET /v1/models lists the served ids with manifest URLs', async () => {
    const res = await fetch(`${worker.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: { id: string; manifestUrl: string }[] };
    expect(body.models.map((m) => m.id)).toEqual([FIXTURE_MODEL_ID, 'broken', 'missing']);
    expect(body.models[0]!.manifestUrl).toBe(`${worker.url}/v1/models/${FIXTURE_MODEL_ID}/manifest`);
  });

  it('GET /v1/models/:id/manifest serves the validated manifest', async () => {
    const res = await fetch(`${worker.url}/v1/models/${FIXTURE_MODEL_ID}/manifest`);
    expect(res.status).toBe(200);
    expect(parseManifest(await res.json())).toEqual(assets.manifest);
  });

  it('manifest errors: unknown id 404, configured but absent 404, invalid 500 naming the fields', async () => {
    const unknown = await fetch(`${worker.url}/v1/models/other/manifest`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/unknown model "other"/);
    const missing = await fetch(`${worker.url}/v1/models/missing/manifest`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/no manifest\.json/);
    const broken = await fetch(`${worker.url}/v1/models/broken/manifest`);
    expect(broken.status).toBe(500);
    expect(((await broken.json()) as { error: string }).error).toMatch(
      /manifest of broken is invalid: .*blocks/,
    );
  });

  it('GET /v1/models/:id/files/* serves listed files with the sha256 ETag, 304 and cache headers', async () => {
    const block = assets.manifest.blocks[1]!;
    const url = `${worker.url}/v1/models/${FIXTURE_MODEL_ID}/files/${block.file}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(block.sha256);
    expect(res.headers.get('etag')).toBe(`"${block.sha256}"`);
    expect(res.headers.get('cache-control')).toMatch(/must-revalidate/);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');

    const cached = await fetch(url, { headers: { 'if-none-match': `"${block.sha256}"` } });
    expect(cached.status).toBe(304);

    const pinned = await fetch(`${url}?sha256=${block.sha256}`);
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    await pinned.arrayBuffer();

    const stale = await fetch(`${url}?sha256=${'0'.repeat(64)}`);
    expect(stale.status).toBe(404);
    expect(((await stale.json()) as { error: string }).error).toMatch(/stale manifest/);
  });

  it('does not serve files the manifest does not list', async () => {
    for (const path of ['secret.txt', 'manifest.json', '../broken/manifest.json', 'blocks/nope.onnx']) {
      const res = await fetch(`${worker.url}/v1/models/${FIXTURE_MODEL_ID}/files/${path}`);
      expect(res.status, path).toBe(404);
      await res.body?.cancel();
    }
  });
});

describe('health and OpenAPI', () => {
  it('GET /healthz reports the worker and a reachable backend', async () => {
    const res = await fetch(`${worker.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      worker: { ok: true, protocolVersion: PROTOCOL_VERSION },
      backend: { url: backend.url, reachable: true, tokenConfigured: true, body: { ok: true } },
    });
  });

  it('GET /v1/openapi.json serves the OpenAPI 3.1 document of every route', async () => {
    const res = await fetch(`${worker.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/infer',
        '/v1/requests/{id}',
        '/v1/models',
        '/v1/models/{id}/manifest',
        '/v1/models/{id}/files/{path}',
        '/healthz',
      ]),
    );
  });
});

const realManifest = join(REPO_ROOT, 'models', 'resnet56-fmnist', 'manifest.json');

describe.skipIf(!existsSync(realManifest))('the real models/ folder (wrangler.toml defaults)', () => {
  let real: RunningWorker;
  beforeAll(async () => {
    real = await startWorker({ backendUrl: backend.url });
  });
  afterAll(async () => real?.stop());

  it('serves and validates resnet56-fmnist and its first block', async () => {
    const local = parseManifest(JSON.parse(readFileSync(realManifest, 'utf8')));
    const res = await fetch(`${real.url}/v1/models/resnet56-fmnist/manifest`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(local);
    const block = local.blocks[0]!;
    const file = await fetch(`${real.url}/v1/models/resnet56-fmnist/files/${block.file}`);
    expect(file.status).toBe(200);
    const bytes = new Uint8Array(await file.arrayBuffer());
    expect(bytes.byteLength).toBe(block.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(block.sha256);
  });

  it('serves nothing that is not meant for clients: training folders, the source model, build files → 404', async () => {
    const hidden = [
      '/resnet56-fmnist/train/model.onnx',
      '/resnet56-fmnist/train/checkpoint.pt',
      '/resnet56-fmnist/train/train-log.json',
      '/resnet56-fmnist/train/train.out',
      '/resnet56-fmnist/train/meta.json',
      '/v1/models/resnet56-fmnist/files/train/model.onnx',
      '/v1/models/resnet56-fmnist/files/train/checkpoint.pt',
      '/.assetsignore',
      '/.build-hash',
    ];
    for (const path of hidden) {
      const res = await fetch(`${real.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.body?.cancel();
    }
    // …while what clients need is there.
    for (const path of ['/resnet56-fmnist/manifest.json', '/lib/spinn-client.js', '/']) {
      const res = await fetch(`${real.url}${path}`);
      expect(res.status, path).toBe(200);
      await res.body?.cancel();
    }
  });

  it("the site Worker answers the pages and files; the API and every miss are the edge's (JSON)", async () => {
    const page = await fetch(`${real.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<!doctype html>/i);
    const head = await fetch(`${real.url}/lib/spinn-client.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/javascript/);
    // A path that is neither an asset nor a route, by any method, gets the API's JSON 404 (not the site's page).
    for (const [method, path] of [
      ['GET', '/no-such-page'],
      ['POST', '/no-such-page'],
      ['GET', '/v1/no-such-route'],
    ] as const) {
      const res = await fetch(`${real.url}${path}`, { method, ...(method === 'POST' ? { body: 'x' } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: `no route for ${method} ${path}` });
    }
    // /healthz is the edge's even though the site could hold a file of that name.
    expect((await (await fetch(`${real.url}/healthz`)).json()).worker).toMatchObject({ ok: true });
  });
});
