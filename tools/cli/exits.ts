// `npm run model:exits -- <model.onnx> --data <dir> --out <dir>`: attaches SDN-style early exits to a trained ONNX
// classifier and writes a servable model directory (tools/exits/attach-exits.ts does the work). Progress goes to
// stderr; a table of the exits and, last, one JSON line go to stdout. User errors (a model it cannot cut, a bad
// dataset) print one line and exit with code 1.

import Table from 'cli-table3';
import { Command } from 'commander';
import { DatasetError } from '../dataset/image-folder.js';
import { ExitsError } from '../exits/cut-points.js';
import { attachExits, DEFAULT_EXIT_TARGETS } from '../exits/attach-exits.js';
import { SplitError } from '../split/errors.js';
import { readMeta } from '../split/meta.js';

const numbers = (v: string) => v.split(',').map((x) => Number(x.trim()));
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};

const program = new Command()
  .name('model:exits')
  .description(
    'Attach early exits to a trained ONNX CNN classifier and write a servable SPINN model directory',
  )
  .argument('<model>', 'trained ONNX classifier: one image input [N, C, H, W], one output [N, classes]')
  .requiredOption(
    '--data <dir>',
    'IDX pair (train-images-idx3-ubyte.gz, ...; t10k- pair = test split) or a folder of class sub-folders of PNG/JPEG images',
  )
  .requiredOption('--out <dir>', 'output model directory (manifest.json, blocks/, exits/, source/)')
  .option(
    '--meta <file>',
    'JSON with id, description, classes and preprocessing (resize, padding, channelOrder, scale, mean, std)',
  )
  .option('--targets <list>', 'MAC fractions to place exits at', DEFAULT_EXIT_TARGETS.join(','))
  .option('--cut-ops <ops>', 'op types whose outputs may be cut points', 'Relu')
  .option(
    '--val-split <f>',
    'share of the training images held out for validation',
    positive('--val-split'),
    0.1,
  )
  .option('--seed <n>', 'seed of the data split and head training', (v) => Number(v), 1)
  .option('--train-limit <n>', 'most training images for the heads', positive('--train-limit'), 20000)
  .option('--profile-limit <n>', 'most images to profile on', positive('--profile-limit'))
  .option(
    '--codec-limit <n>',
    'images the codec accuracy change is measured on',
    positive('--codec-limit'),
    1000,
  )
  .option('--max-features <n>', 'most pooled features per exit head', positive('--max-features'), 1024)
  .option('--epochs <n>', 'head training epochs', positive('--epochs'), 20)
  .option('--threads <n>', 'onnxruntime-node threads for feature extraction', positive('--threads'))
  .option('--no-latency', 'skip the per-block latency measurements')
  .option('--repeats <n>', 'timed runs per block for latency medians', positive('--repeats'), 30)
  .action(async (model: string, o: Record<string, unknown>) => {
    const started = performance.now();
    const r = await attachExits({
      model,
      data: o.data as string,
      outDir: o.out as string,
      ...(o.meta ? { meta: readMeta(o.meta as string) } : {}),
      targets: numbers(o.targets as string),
      cutOps: (o.cutOps as string)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      valFraction: o.valSplit as number,
      seed: o.seed as number,
      trainLimit: o.trainLimit as number,
      ...(o.profileLimit ? { profileLimit: o.profileLimit as number } : {}),
      codecLimit: o.codecLimit as number,
      maxFeatures: o.maxFeatures as number,
      epochs: o.epochs as number,
      ...(o.threads ? { threads: o.threads as number } : {}),
      latency: o.latency as boolean,
      repeats: o.repeats as number,
    });
    const t = new Table({
      head: ['exit', 'after block', 'cut tensor', 'MACs share', 'features', 'val acc', 'accuracy'],
    });
    r.exits.forEach((e, i) =>
      t.push([
        i,
        e.afterBlock,
        e.tensor,
        `${(e.macsFraction * 100).toFixed(1)} %`,
        e.features,
        pct(e.valAccuracy),
        pct(e.accuracy),
      ]),
    );
    const fin = r.manifest.exits.at(-1)!;
    t.push([
      `${r.exits.length} (final)`,
      fin.afterBlock,
      fin.input.name,
      '100 %',
      '-',
      '-',
      pct(r.finalAccuracy),
    ]);
    console.log(
      `${r.manifest.id}: ${r.manifest.blocks.length} blocks, ${r.manifest.exits.length} exits; heads trained on ${r.data.train} images ` +
        `(${r.data.validation} for validation), profiled on ${r.data.profile} of ${r.data.profileSource}`,
    );
    console.log(t.toString());
    console.log(`final exit vs input model: max |Δlogit| = ${r.finalMaxAbsDiff.toExponential(2)}`);
    console.log(
      `seconds per stage: ${JSON.stringify(r.seconds)}; total ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    console.log(
      JSON.stringify({
        dir: r.dir,
        model: r.manifest.id,
        exits: r.exits.map((e) => ({
          afterBlock: e.afterBlock,
          macsFraction: round(e.macsFraction),
          accuracy: e.accuracy,
        })),
        finalAccuracy: r.finalAccuracy,
        finalMaxAbsDiff: r.finalMaxAbsDiff,
        samples: r.data,
        seconds: r.seconds,
      }),
    );
  });

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const round = (x: number) => Math.round(x * 10000) / 10000;

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ExitsError || err instanceof SplitError || err instanceof DatasetError) {
    console.error(`model:exits: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
