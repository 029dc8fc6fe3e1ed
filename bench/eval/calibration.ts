// Calibration and measurement halves of the test split (issue 16, item 3). The manifest's profile was computed on
// the whole test split, so a scheduler reading it would have seen the images it is measured on. Here every model
// is run once over the test split on onnxruntime-node (the exit table: each image's top-1 and confidence at every
// exit); the scheduler's exit rates and accuracies are recomputed from the calibration half alone, and its codec
// losses from calibration images only; the manifest carrying that profile is what the edge schedules with (served
// by the edge's site Worker, harness/stack.ts siteConfigServing) and what the device reads. The same table gives the
// pre-registered oracle the reference exits of the measurement images. Both are cached under bench/out/eval-cache/ (keyed by the model's
// files and the number of codec samples), so only the first run of a model pays for them.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type ModelManifest, type ModelProfile } from '../../core/manifest.js';
import { loadFashionMnist, fashionMnistImages } from '../../tools/dataset/fashion-mnist.js';
import { subsetOf } from '../../tools/dataset/labelled-images.js';
import { codecSection, profileCodec } from '../../tools/profile/codec-profile.js';
import { buildExitTable, type ExitTable } from '../../tools/profile/exit-table.js';
import { exitAccuracies, thresholdProfile } from '../../tools/profile/threshold-profile.js';
import { nodeSessions, nodeTensor } from '../../tools/runtime/node-sessions.js';
import { calibrationImage, HALVES_TEXT, TEST_IMAGES } from './grid.js';
import type { ImageExits } from './oracle.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CACHE = join(ROOT, 'bench/out/eval-cache');

export interface Calibration {
  model: string;
  /** The manifest with the calibration-half profile (latency profile unchanged). */
  manifest: ModelManifest;
  /** Reference exits of every test image (the oracle reads the measurement half's). */
  exits: (image: number) => ImageExits;
  /** What the report says about it. */
  text: string;
}

export const modelDir = (model: string) => join(ROOT, 'models', model);

export function loadModelManifest(model: string): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(join(modelDir(model), 'manifest.json'), 'utf8')));
}

/** A key for the model's weights: the hashes of its block and exit files. */
function modelKey(m: ModelManifest): string {
  const h = createHash('sha256');
  for (const f of [...m.blocks, ...m.exits]) h.update(f.sha256);
  return h.digest('hex').slice(0, 12);
}

function tableRows(t: ExitTable, rows: readonly number[]): ExitTable {
  const E = t.exits;
  const predicted = new Uint8Array(rows.length * E);
  const confidence = new Float32Array(rows.length * E);
  const truth = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    predicted.set(t.predicted.subarray(r * E, (r + 1) * E), i * E);
    confidence.set(t.confidence.subarray(r * E, (r + 1) * E), i * E);
    truth[i] = t.truth[r]!;
  });
  return { samples: rows.length, exits: E, predicted, confidence, truth };
}

async function exitTable(m: ModelManifest, log: (s: string) => void): Promise<ExitTable> {
  const file = join(CACHE, `${m.id}-${modelKey(m)}-exit-table.bin`);
  const E = m.exits.length;
  const n = TEST_IMAGES;
  if (existsSync(file)) {
    const b = readFileSync(file);
    const confidence = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * E * 4));
    const predicted = new Uint8Array(b.subarray(n * E * 4, n * E * 5));
    const truth = new Uint8Array(b.subarray(n * E * 5, n * E * 5 + n));
    return { samples: n, exits: E, confidence, predicted, truth };
  }
  log(`[calibration] ${m.id}: exit table of the ${n} test images (onnxruntime-node, once; cached)`);
  const ds = fashionMnistImages(loadFashionMnist('test', { limit: n, requireFull: true }));
  const t = await buildExitTable(m, nodeSessions(modelDir(m.id), m, { threads: 1 }), nodeTensor, ds, {
    batch: 100,
  });
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(
    file,
    Buffer.concat([Buffer.from(t.confidence.buffer), Buffer.from(t.predicted), Buffer.from(t.truth)]),
  );
  return t;
}

async function calibrationProfile(
  m: ModelManifest,
  table: ExitTable,
  codecSamples: number,
  log: (s: string) => void,
): Promise<Pick<ModelProfile, 'dataset' | 'thresholds' | 'exitAccuracy' | 'codec'>> {
  const file = join(CACHE, `${m.id}-${modelKey(m)}-calibration-${codecSamples}.json`);
  if (existsSync(file))
    return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof calibrationProfile>;
  const half = Array.from({ length: TEST_IMAGES / 2 }, (_, k) => calibrationImage(k));
  const cal = tableRows(table, half);
  const thresholds = thresholdProfile(
    cal,
    m.profile!.thresholds.map((t) => t.threshold),
  );
  log(`[calibration] ${m.id}: codec losses on ${codecSamples} calibration images (once; cached)`);
  const ds = fashionMnistImages(loadFashionMnist('test', { limit: TEST_IMAGES, requireFull: true }));
  const part = subsetOf(ds, half.slice(0, codecSamples), `${ds.name}, calibration half`);
  const t0 = performance.now();
  const r = await profileCodec(m, nodeSessions(modelDir(m.id), m, { threads: 1 }), nodeTensor, part, {
    batch: 100,
    sizeSamples: Math.min(300, codecSamples),
    granularity: 'tensor',
    thresholds: thresholds.map((t) => t.threshold),
  });
  log(`[calibration] ${m.id}: codec pass took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const out = {
    dataset: {
      name: 'fashion-mnist test split, calibration half (even indices)',
      split: 'test',
      samples: half.length,
    },
    thresholds,
    exitAccuracy: exitAccuracies(cal),
    codec: codecSection(r),
  };
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify(out));
  return out;
}

/**
 * The calibration of one model: computes (or reads) its exit table and calibration profile, and writes the
 * calibrated manifest to `<siteDir>/<model>/manifest.json` for the edge and the device.
 */
export async function calibrate(
  model: string,
  siteDir: string,
  codecSamples: number,
  log: (s: string) => void,
): Promise<Calibration> {
  const original = loadModelManifest(model);
  if (!original.profile) throw new Error(`model ${model} has no profile`);
  const table = await exitTable(original, log);
  const profile = await calibrationProfile(original, table, codecSamples, log);
  const manifest = parseManifest({ ...original, profile: { ...original.profile, ...profile } });
  mkdirSync(join(siteDir, model), { recursive: true });
  writeFileSync(join(siteDir, model, 'manifest.json'), JSON.stringify(manifest));
  const E = table.exits;
  return {
    model,
    manifest,
    exits: (image) => ({
      confidence: Array.from(table.confidence.subarray(image * E, (image + 1) * E)),
      correct: Array.from(
        table.predicted.subarray(image * E, (image + 1) * E),
        (p) => p === table.truth[image],
      ),
    }),
    text:
      `${HALVES_TEXT}. ${model}: the scheduler's exit rates and accuracies come from the ${profile.dataset.samples} ` +
      `calibration images, its codec losses from the first ${profile.codec!.accuracySamples} of them; the ` +
      `latency profile is the manifest's.`,
  };
}
