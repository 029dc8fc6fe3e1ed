// The offline profiler as a library call (used by `npm run model:profile` and `npm run model:exits`): on a labelled
// image set, the exit rates and accuracy over a threshold grid, per-block latency with onnxruntime-node (server
// estimate) and onnxruntime-web (device), and per split point and codec the encoded bytes, codec time and accuracy
// change (tools/profile/codec-profile.ts). Returns the manifest with its `profile` filled in.

import { parseManifest, type ModelManifest, type ModelProfile } from '../../core/manifest.js';
import { preprocessImage } from '../../core/preprocess.js';
import { progressBar } from '../cli/progress.js';
import { firstOf, type LabelledImages } from '../dataset/labelled-images.js';
import { nodeSessions, nodeTensor } from '../runtime/node-sessions.js';
import { webSessions, webTensor } from '../runtime/web-sessions.js';
import { codecSection, profileCodec } from './codec-profile.js';
import { buildExitTable, type ExitTable } from './exit-table.js';
import { measureLatency } from './latency-profile.js';
import { exitAccuracies, thresholdProfile } from './threshold-profile.js';

export interface ProfileModelOptions {
  /** How the profile names the data (`profile.dataset`). */
  dataset: { name: string; split: string };
  batch?: number;
  repeats?: number;
  serverThreads?: number;
  latency?: boolean;
  codec?: boolean;
  /** Profile the codec only; keep the rest of the manifest's profile. */
  codecOnly?: boolean;
  codecLimit?: number;
  codecSizeSamples?: number;
  granularity?: 'tensor' | 'channel';
}

export interface ProfileModelResult {
  manifest: ModelManifest;
  /** The accuracy pass (absent with codecOnly). */
  table?: ExitTable;
  codecSeconds?: number;
}

export async function profileModel(
  dir: string,
  manifest: ModelManifest,
  ds: LabelledImages,
  o: ProfileModelOptions,
): Promise<ProfileModelResult> {
  const sessions = nodeSessions(dir, manifest);
  const previous = manifest.profile;
  if (o.codecOnly && !previous) throw new Error('--codec-only needs a manifest that already has a profile');
  const batch = o.batch ?? 250;
  let table: ExitTable | undefined;
  if (!o.codecOnly) {
    const bar = progressBar('accuracy pass', ds.count);
    table = await buildExitTable(manifest, sessions, nodeTensor, ds, {
      batch,
      onProgress: (n) => bar.update(n),
    });
    bar.stop();
  }
  const thresholds = table ? thresholdProfile(table) : previous!.thresholds;
  let codec = previous?.codec;
  let codecSeconds: number | undefined;
  if (o.codec !== false || o.codecOnly) {
    const part = firstOf(ds, Math.min(ds.count, o.codecLimit ?? ds.count));
    const bar = progressBar('codec pass (every split × q4/q6/q8)', part.count);
    const t0 = performance.now();
    const r = await profileCodec(manifest, sessions, nodeTensor, part, {
      batch,
      sizeSamples: o.codecSizeSamples ?? 500,
      granularity: o.granularity ?? 'tensor',
      thresholds: thresholds.map((t) => t.threshold),
      onProgress: (n) => bar.update(n),
    });
    bar.stop();
    codecSeconds = (performance.now() - t0) / 1000;
    codec = codecSection(r);
  }
  let latency = previous?.latency ?? [];
  if (o.latency !== false && !o.codecOnly) latency = await measureBoth(dir, manifest, ds, o);
  const profile: ModelProfile = {
    dataset: table ? { ...o.dataset, samples: ds.count } : previous!.dataset,
    exitAccuracy: table ? exitAccuracies(table) : previous!.exitAccuracy,
    thresholds,
    latency,
    ...(codec ? { codec } : {}),
  };
  return {
    manifest: parseManifest({ ...manifest, profile }),
    ...(table ? { table } : {}),
    ...(codecSeconds !== undefined ? { codecSeconds } : {}),
  };
}

/** Block and exit latency at batch 1 on onnxruntime-node (server estimate) and onnxruntime-web (device). */
async function measureBoth(dir: string, manifest: ModelManifest, ds: LabelledImages, o: ProfileModelOptions) {
  const sample = preprocessImage(ds.image(0), manifest.input);
  const total = manifest.blocks.length + manifest.exits.length;
  const threads = o.serverThreads ?? 2;
  const repeats = o.repeats ?? 30;
  const b1 = progressBar('latency onnxruntime-node', total);
  const server = await measureLatency(
    manifest,
    nodeSessions(dir, manifest, { threads }),
    nodeTensor,
    sample,
    {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      role: 'server-estimate',
      threads,
      repeats,
      onProgress: (n) => b1.update(n),
    },
  );
  b1.stop();
  const b2 = progressBar('latency onnxruntime-web', total);
  const device = await measureLatency(manifest, webSessions(dir, manifest, 1), webTensor, sample, {
    runtime: 'onnxruntime-web',
    executionProvider: 'wasm',
    role: 'device',
    threads: 1,
    repeats,
    onProgress: (n) => b2.update(n),
  });
  b2.stop();
  return [device, server];
}
