// The model catalogue: GET /v1/models, the validated manifest, and the block/exit ONNX files the manifest lists,
// served from the static assets with the file's sha256 as ETag. Only the block and exit files the manifest names
// are served: not its `source` (the single model under train/, for tools on disk) nor anything else in the assets.

import { Hono } from 'hono';
import type { ModelManifest } from '../../core/manifest.js';
import { readConfig, type AppEnv } from '../env.js';
import { httpError } from '../http-error.js';
import { fetchAsset, getManifest } from '../model-registry.js';

/** A file URL that embeds its hash may be cached forever; a bare one must be revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=300, must-revalidate';

function listedFiles(m: ModelManifest): Map<string, { sha256: string; bytes: number }> {
  const files = new Map<string, { sha256: string; bytes: number }>();
  for (const f of [...m.blocks, ...m.exits]) {
    files.set(f.file, { sha256: f.sha256, bytes: f.bytes });
  }
  return files;
}

export const modelRoutes = new Hono<AppEnv>()
  .get('/v1/models', (c) => {
    const origin = new URL(c.req.url).origin;
    const models = readConfig(c.env).models.map((id) => ({
      id,
      manifestUrl: `${origin}/v1/models/${id}/manifest`,
      filesUrl: `${origin}/v1/models/${id}/files/`,
    }));
    return c.json({ models });
  })

  .get('/v1/models/:id/manifest', async (c) => {
    const manifest = await getManifest(c.env, readConfig(c.env), c.req.param('id'));
    return c.json(manifest, 200, { 'cache-control': REVALIDATE });
  })

  .get('/v1/models/:id/files/*', async (c) => {
    const id = c.req.param('id');
    const manifest = await getManifest(c.env, readConfig(c.env), id);
    const prefix = `/v1/models/${id}/files/`;
    let path: string;
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname.slice(prefix.length));
    } catch {
      throw httpError(400, 'file path is not valid percent-encoding');
    }
    const entry = listedFiles(manifest).get(path);
    if (!entry || path.split('/').some((seg) => seg === '..' || seg === '')) {
      throw httpError(404, `model ${id} has no file ${JSON.stringify(path)} in its manifest`);
    }
    const wanted = c.req.query('sha256');
    if (wanted !== undefined && wanted !== entry.sha256) {
      throw httpError(
        404,
        `file ${path} of ${id} has sha256 ${entry.sha256}, not ${wanted} (stale manifest?)`,
      );
    }
    const etag = `"${entry.sha256}"`;
    const cacheControl = wanted ? IMMUTABLE : REVALIDATE;
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      return c.body(null, 304, { etag, 'cache-control': cacheControl });
    }
    const asset = await fetchAsset(c.env, `${id}/${path}`);
    if (!asset.ok) {
      await asset.body?.cancel();
      throw httpError(asset.status === 404 ? 404 : 502, `file ${path} of ${id} is listed but not deployed`);
    }
    return new Response(asset.body, {
      status: 200,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(entry.bytes),
        etag,
        'cache-control': cacheControl,
      },
    });
  });
