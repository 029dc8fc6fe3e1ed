// Finds and validates the model artifacts the backend serves (`<dir>/<id>/manifest.json` via core's parser), and
// answers the per-request questions that need a manifest: does this model exist, is this a split the server can
// finish from, and which tensor shape must arrive there. Used by the HTTP layer (validation) and by each inference
// worker thread (file paths), so both read the same manifests the same way.

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

/**
 * The shape an activation must have to enter the server at `split` (batch 1), or an error message saying why the
 * split cannot be finished here. The server runs blocks split..end, so split must be below the block count.
 */
export function expectedInputShape(
  manifest: ModelManifest,
  split: number,
): { shape: number[] } | { error: string } {
  const blocks = manifest.blocks.length;
  if (!Number.isInteger(split) || split < 0 || split >= blocks) {
    return {
      error: `split ${split} is out of range: model ${manifest.id} has ${blocks} blocks, so split must be 0..${blocks - 1}`,
    };
  }
  const declared = manifest.splits.find((s) => s.split === split);
  // A manifest lists the candidate splits; any block boundary is still a valid entry point, whose tensor is the
  // input of that block.
  const tensor = declared?.tensor ?? manifest.blocks[split]!.inputs[0]!;
  const shape = tensor.shape.map((d, i) => (i === 0 ? 1 : d));
  if (shape.some((d) => d <= 0)) {
    return {
      error: `model ${manifest.id} declares a dynamic non-batch dimension at split ${split}; cannot validate`,
    };
  }
  return { shape };
}
