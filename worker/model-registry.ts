// Model manifests as the edge sees them: read from the static assets (`models/<id>/manifest.json`), validated with
// core's parseManifest once per isolate and cached, and limited to the ids the MODELS var lists. Unknown ids are
// 404s; a manifest that exists but fails validation is a 500 naming the broken fields (a deployment bug).

import { ManifestError, parseManifest, type ModelManifest } from '../core/manifest.js';
import type { Env, WorkerConfig } from './env.js';
import { httpError } from './http-error.js';

// Assets are immutable for the life of a deployment (and so of an isolate): one parse per model per isolate.
const cache = new Map<string, Promise<ModelManifest>>();

// The assets binding ignores the host; any absolute URL works.
const ASSET_ORIGIN = 'https://assets.invalid';

/** Fetches a file from the assets directory (`path` relative to it, no leading slash). */
export function fetchAsset(env: Env, path: string, init?: RequestInit): Promise<Response> {
  return env.ASSETS.fetch(new Request(`${ASSET_ORIGIN}/${path}`, init));
}

export function assertServedModel(config: WorkerConfig, modelId: string): void {
  if (!config.models.includes(modelId)) {
    throw httpError(
      404,
      `unknown model ${JSON.stringify(modelId)}; this edge serves: ${config.models.join(', ')}`,
    );
  }
}

async function load(env: Env, modelId: string): Promise<ModelManifest> {
  const res = await fetchAsset(env, `${modelId}/manifest.json`);
  if (res.status === 404) {
    await res.body?.cancel();
    throw httpError(404, `model ${modelId} is configured but has no manifest.json in the assets`);
  }
  if (!res.ok) throw httpError(502, `assets answered HTTP ${res.status} for the ${modelId} manifest`);
  let json: unknown;
  try {
    json = await res.json();
  } catch (e) {
    throw httpError(500, `manifest of ${modelId} is not JSON: ${(e as Error).message}`);
  }
  try {
    const manifest = parseManifest(json);
    if (manifest.id !== modelId)
      throw new ManifestError(`manifest id ${manifest.id} does not match its folder`);
    return manifest;
  } catch (e) {
    throw httpError(500, `manifest of ${modelId} is invalid: ${(e as Error).message}`);
  }
}

/** The validated manifest of a served model; throws an HTTPException 404 for ids this edge does not serve. */
export function getManifest(env: Env, config: WorkerConfig, modelId: string): Promise<ModelManifest> {
  assertServedModel(config, modelId);
  let p = cache.get(modelId);
  if (!p) {
    p = load(env, modelId);
    cache.set(modelId, p);
    // Failures are not cached: a transient assets error must not poison the isolate.
    p.catch(() => cache.delete(modelId));
  }
  return p;
}
