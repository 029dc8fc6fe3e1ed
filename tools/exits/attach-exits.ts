// `model:exits` as a library call: from a trained ONNX classifier and a labelled image set to a servable model
// directory (blocks, exits, manifest with profile), following Shallow-Deep Networks' IC-only recipe:
//  1. inspect the model and pick exit points among the splitter's single-tensor cuts nearest the target MAC shares;
//  2. split the data (seeded): heads train on one part, pick their epoch on a validation part, and the profile is
//     measured on data the heads never saw (the test split when the source has one, else the validation part);
//  3. run the frozen network once to extract each head's pooled features, train each head (softmax regression);
//  4. graft the heads onto the network (the network's own output stays the last, final exit, untouched), split it
//     with the splitter, profile it, and check the chained blocks' final logits against the input model.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest, Preprocessing } from '../../core/manifest.js';
import { progressBar } from '../cli/progress.js';
import { firstOf, subsetOf, type LabelledImages } from '../dataset/labelled-images.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { buildExitTable } from '../profile/exit-table.js';
import { profileModel } from '../profile/profile-model.js';
import { compareWithSource, outputNames } from '../profile/source-compare.js';
import { exitAccuracies } from '../profile/threshold-profile.js';
import { nodeSessions, nodeTensor } from '../runtime/node-sessions.js';
import type { ModelMeta } from '../split/meta.js';
import { encodeModel } from '../split/onnx-proto.js';
import { splitModel } from '../split/split-model.js';
import { ExitsError, inspectSourceModel, pickExitCuts, type SourceModel } from './cut-points.js';
import { extractFeatures } from './extract-features.js';
import { featureModel, modelWithExits, planHead, type HeadPlan, type TrainedHead } from './head-graph.js';
import { seededRandom, shuffled, trainSoftmaxRegression } from './softmax-regression.js';

export const DEFAULT_EXIT_TARGETS = [0.15, 0.3, 0.45, 0.6, 0.75, 0.9];

export interface AttachExitsOptions {
  model: string;
  data: string;
  outDir: string;
  meta?: ModelMeta;
  targets?: number[];
  cutOps?: string[];
  /** Share of the training images held out to pick each head's epoch (and to profile on without a test split). */
  valFraction?: number;
  seed?: number;
  /** Most training images the heads see (features of all of them are held in memory). */
  trainLimit?: number;
  /** Most images the profile is measured on. */
  profileLimit?: number;
  /** Most images the codec's accuracy change is measured on (a run of the network per split and bit-width). */
  codecLimit?: number;
  maxFeatures?: number;
  epochs?: number;
  latency?: boolean;
  repeats?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface ExitSummary {
  afterBlock: number;
  tensor: string;
  macsFraction: number;
  features: number;
  /** On the profile data (the heads never saw it). */
  accuracy: number;
  /** On the validation part, at the kept epoch. */
  valAccuracy: number;
}

export interface AttachExitsResult {
  dir: string;
  manifest: ModelManifest;
  exits: ExitSummary[];
  finalAccuracy: number;
  /** Largest |logit difference| between the chained blocks' final exit and the input model, on the profile data. */
  finalMaxAbsDiff: number;
  data: { train: number; validation: number; profile: number; profileSource: string };
  seconds: Record<string, number>;
}

/**
 * A folder's labels follow its sorted sub-folder names; when the meta file names the model's classes, relabel by
 * name so label i is the model's class i whatever the folders sort to.
 */
function alignLabels(ds: LabelledImages, classes: string[] | undefined): LabelledImages {
  if (!ds.classes || !classes) return ds;
  const map = ds.classes.map((name) => {
    const k = classes.indexOf(name);
    if (k < 0)
      throw new ExitsError(
        `${ds.name}: folder ${name} is not one of the model's classes (${classes.join(', ')})`,
      );
    return k;
  });
  return { ...ds, labels: ds.labels.map((l) => map[l]!), classes };
}

/** Heads' training part, validation part and the profile set, drawn with a seeded shuffle. */
function splitData(
  d: ReturnType<typeof loadDataset>,
  o: AttachExitsOptions,
): { train: LabelledImages; val: LabelledImages; profile: LabelledImages } {
  const frac = o.valFraction ?? 0.1;
  if (!(frac > 0 && frac < 1)) throw new ExitsError(`--val-split must be in (0, 1), got ${frac}`);
  const order = shuffled(d.train.count, seededRandom(o.seed ?? 1));
  const nVal = Math.max(1, Math.round(d.train.count * frac));
  if (d.train.count - nVal < 1) throw new ExitsError(`${o.data}: too few images (${d.train.count}) to split`);
  const valIdx = Array.from(order.subarray(0, nVal));
  const trainIdx = Array.from(
    order.subarray(nVal, nVal + Math.min(d.train.count - nVal, o.trainLimit ?? Infinity)),
  );
  const val = subsetOf(d.train, valIdx, `${d.train.name}, validation part`);
  const train = subsetOf(d.train, trainIdx, `${d.train.name}, head-training part`);
  const profile = firstOf(d.test ?? val, o.profileLimit ?? Infinity);
  return { train, val, profile };
}

/** The manifest's preprocessing: the meta file's, else 1/255 scaling, mean 0, std 1 at the model's input size. */
function preprocessingFor(
  src: SourceModel,
  d: ReturnType<typeof loadDataset>,
  meta?: ModelMeta,
): Preprocessing {
  if (meta?.preprocessing) return meta.preprocessing;
  const first = d.train.image(0);
  return {
    sourceSize: [first.height, first.width],
    resize: [src.input.height, src.input.width],
    padding: 0,
    scale: 1 / 255,
    mean: [0],
    std: [1],
  };
}

async function trainHeads(
  src: SourceModel,
  plans: HeadPlan[],
  data: { train: LabelledImages; val: LabelledImages },
  input: { name: string; shape: number[]; preprocessing: Preprocessing },
  o: AttachExitsOptions,
): Promise<{ heads: TrainedHead[]; valAccuracy: number[] }> {
  const { model, outputs } = featureModel(src.model, plans);
  const bytes = encodeModel(model);
  const features = plans.map((p) => p.features);
  const extract = async (ds: LabelledImages, label: string) => {
    const bar = progressBar(`features: ${label}`, ds.count);
    const sets = await extractFeatures(bytes, outputs, features, ds, input, {
      ...(o.threads ? { threads: o.threads } : {}),
      onProgress: (n) => bar.update(n),
    });
    bar.stop();
    return sets;
  };
  const train = await extract(data.train, `${data.train.count} training images`);
  const val = await extract(data.val, `${data.val.count} validation images`);
  const heads: TrainedHead[] = [];
  const valAccuracy: number[] = [];
  const epochs = o.epochs ?? 20;
  const bar = progressBar('training heads (epochs)', plans.length * epochs);
  plans.forEach((plan, e) => {
    const head = trainSoftmaxRegression(train[e]!, plan.features, src.output.classes, val[e], {
      epochs,
      seed: (o.seed ?? 1) + e,
      onEpoch: (k) => bar.update(e * epochs + k),
    });
    train[e] = undefined!; // release this exit's features before the next one's training allocates
    heads.push({ plan, weight: head.weight, bias: head.bias });
    valAccuracy.push(head.accuracy);
  });
  bar.stop();
  return { heads, valAccuracy };
}

/** Final-exit logits of the chained block files vs the input model on the profile data, and every exit's accuracy. */
async function checkChain(dir: string, manifest: ModelManifest, modelPath: string, profile: LabelledImages) {
  const [outName] = await outputNames(modelPath);
  const compare = await compareWithSource(modelPath, manifest, [[outName!, manifest.exits.length - 1]]);
  const bar = progressBar('final exit vs input model', profile.count);
  const table = await buildExitTable(manifest, nodeSessions(dir, manifest), nodeTensor, profile, {
    onProgress: (n) => bar.update(n),
    onBatch: (from, count, input, logits) => compare.onBatch(from, count, input, logits),
  });
  bar.stop();
  await compare.release();
  return { maxAbsDiff: compare.maxAbsDiff, accuracy: exitAccuracies(table) };
}

export async function attachExits(o: AttachExitsOptions): Promise<AttachExitsResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    seconds[name] = Math.round((performance.now() - t) / 100) / 10;
    t = performance.now();
  };
  const src = await inspectSourceModel(readFileSync(o.model), o.model, o.cutOps ?? ['Relu']);
  const cuts = pickExitCuts(src.cuts, o.targets ?? DEFAULT_EXIT_TARGETS);
  const plans = cuts.map((c) => planHead(c, o.maxFeatures ?? 1024));
  log(
    `${o.model}: ${src.cuts.length} single-tensor cuts; exits at ` +
      plans
        .map(
          (p) => `${p.cut.tensor} (${(p.cut.macsFraction * 100).toFixed(1)} % MACs, ${p.features} features)`,
        )
        .join(', '),
  );
  const loaded = loadDataset(o.data);
  const d = {
    ...loaded,
    train: alignLabels(loaded.train, o.meta?.classes),
    ...(loaded.test ? { test: alignLabels(loaded.test, o.meta?.classes) } : {}),
  };
  const data = splitData(d, o);
  const preprocessing = preprocessingFor(src, d, o.meta);
  const input = {
    name: src.input.name,
    shape: [-1, src.input.channels, src.input.height, src.input.width],
    preprocessing,
  };
  const classes = o.meta?.classes ?? d.train.classes;
  if (classes && classes.length !== src.output.classes)
    throw new ExitsError(
      `the dataset has ${classes.length} classes but the model's output has ${src.output.classes}`,
    );
  for (const s of [data.train, data.val, data.profile])
    if (s.labels.some((l) => l >= src.output.classes))
      throw new ExitsError(
        `${s.name}: labels reach ${Math.max(...s.labels)}, the model has ${src.output.classes} classes`,
      );
  lap('inspect');

  const { heads, valAccuracy } = await trainHeads(src, plans, data, input, o);
  lap('features+heads');

  mkdirSync(join(o.outDir, 'source'), { recursive: true });
  const mergedPath = join(o.outDir, 'source', 'model-with-exits.onnx');
  writeFileSync(mergedPath, encodeModel(modelWithExits(src.model, heads, src.output.classes)));
  const meta: ModelMeta = { ...o.meta, preprocessing, ...(classes ? { classes } : {}) };
  const split = await splitModel(mergedPath, o.outDir, { meta, cutOps: o.cutOps ?? ['Relu'] });
  for (const w of split.warnings) log(`warning: ${w}`);
  lap('split');

  const profiled = await profileModel(o.outDir, split.manifest, data.profile, {
    dataset: { name: data.profile.name, split: d.test ? 'test' : 'validation' },
    latency: o.latency ?? true,
    ...(o.repeats ? { repeats: o.repeats } : {}),
    codecLimit: o.codecLimit ?? 1000,
  });
  writeFileSync(split.manifestPath, JSON.stringify(profiled.manifest, null, 2) + '\n');
  lap('profile');

  const chain = await checkChain(o.outDir, profiled.manifest, o.model, data.profile);
  lap('check');
  const m = profiled.manifest;
  return {
    dir: o.outDir,
    manifest: m,
    exits: m.exits.slice(0, -1).map((e, i) => ({
      afterBlock: e.afterBlock,
      tensor: e.input.name,
      macsFraction: e.macsFraction,
      features: heads[i]!.plan.features,
      accuracy: chain.accuracy[i]!,
      valAccuracy: valAccuracy[i]!,
    })),
    finalAccuracy: chain.accuracy.at(-1)!,
    finalMaxAbsDiff: chain.maxAbsDiff,
    data: {
      train: data.train.count,
      validation: data.val.count,
      profile: data.profile.count,
      profileSource: data.profile.name,
    },
    seconds,
  };
}
