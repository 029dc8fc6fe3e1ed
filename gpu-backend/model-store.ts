// Finds and validates the model artifacts the backend serves (`<dir>/<id>/manifest.json` via core's parser). Used by
// the HTTP layer (which model exists; offloads are checked against it by core/offload-validation.ts) and by each
// inference worker thread (file paths), so both read the same manifests the same way.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseManifest, type ModelManifest } from '../core/manifest.js';

export interface LoadedModel {
  /** Absolute folder of the manifest; block and exit files are relative to it. */
  dir: string;
  manifest: ModelManifest;
}

export function loadModelDir(dir: string): LoadedModel {
  const abs = resolve(dir);
  const file = join(abs, 'manifest.json');
  const manifest = parseManifest(JSON.parse(readFileSync(file, 'utf8')) as unknown);
  for (const f of [...manifest.blocks.map((b) => b.file), ...manifest.exits.map((e) => e.file)]) {
    if (!existsSync(join(abs, f)))
      throw new Error(`model ${manifest.id}: ${f} is listed in ${file} but missing`);
  }
  return { dir: abs, manifest };
}

/**
 * Loads `modelsDir` itself when it holds a manifest, else every direct subfolder that does. `ids` (when not empty)
 * selects models and must all be found.
 */
export function loadModels(modelsDir: string, ids: readonly string[] = []): LoadedModel[] {
  const root = resolve(modelsDir);
  let dirs: string[];
  if (existsSync(join(root, 'manifest.json'))) dirs = [root];
  else {
    dirs = readdirSync(root)
      .map((name) => join(root, name))
      .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'manifest.json')))
      .sort();
  }
  let models = dirs.map(loadModelDir);
  if (ids.length) {
    const missing = ids.filter((id) => !models.some((m) => m.manifest.id === id));
    if (missing.length) throw new Error(`model(s) ${missing.join(', ')} not found under ${root}`);
    models = models.filter((m) => ids.includes(m.manifest.id));
  }
  if (!models.length) throw new Error(`no model manifest found under ${root}`);
  const seen = new Set<string>();
  for (const m of models) {
    if (seen.has(m.manifest.id)) throw new Error(`model id ${m.manifest.id} appears twice under ${root}`);
    seen.add(m.manifest.id);
  }
  return models;
}
