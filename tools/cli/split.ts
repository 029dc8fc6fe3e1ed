// Why this file exists: the command-line face of the splitter (`npm run model:split -- <model.onnx> <out-dir>
// [--meta file]`). It only parses arguments, calls tools/split/split-model.ts and prints a short table; user
// errors (SplitError) become one clear line and exit code 1, without a stack trace.

import Table from 'cli-table3';
import { Command } from 'commander';
import { relative } from 'node:path';
import { SplitError } from '../split/errors.js';
import { readMeta } from '../split/meta.js';
import { splitModel } from '../split/split-model.js';

const program = new Command()
  .name('model:split')
  .description('Split an early-exit ONNX CNN into per-block and per-exit ONNX files plus manifest.json')
  .argument(
    '<model>',
    'source ONNX model (every graph output is an exit; the last one is the final classifier)',
  )
  .argument('<out-dir>', 'output folder (gets manifest.json, blocks/, exits/)')
  .option('--meta <file>', 'JSON with id, description, classes, preprocessing')
  .option('--cut-ops <ops>', 'comma-separated op types whose outputs may be cut points', 'Relu')
  .action(async (model: string, outDir: string, opts: { meta?: string; cutOps: string }) => {
    const meta = opts.meta ? readMeta(opts.meta) : undefined;
    const cutOps = opts.cutOps
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const { manifest: m, manifestPath, warnings } = await splitModel(model, outDir, { meta, cutOps });
    const mega = (x: number) => (x / 1e6).toFixed(2);
    const shape = (s: number[]) => s.map((d) => (d < 0 ? 'N' : d)).join('×');

    const blocks = new Table({
      style: { head: [], border: [] },
      head: ['block', 'output', 'MMACs', 'params', 'exit', 'split s sends', 'fp32 B'],
    });
    for (const b of m.blocks) {
      const exits = m.exits.filter((e) => e.afterBlock === b.index);
      const s = m.splits.find((x) => x.split === b.index);
      blocks.push([
        b.index,
        shape(b.outputs[0]!.shape),
        mega(b.macs),
        b.params,
        exits
          .map((e) => `${e.index}${e.final ? ' (final)' : ''} @${(e.macsFraction * 100).toFixed(1)}%`)
          .join(', '),
        s ? `${s.split}: ${shape(s.tensor.shape)}` : '',
        s ? s.fp32Bytes : '',
      ]);
    }
    console.log(blocks.toString());
    console.log(
      `${m.id}: ${m.blocks.length} blocks, ${m.exits.length} exits, ${m.splits.length} splits; ` +
        `total ${mega(m.blocks.reduce((a, b) => a + b.macs, 0) + m.exits.at(-1)!.macs)} MMACs (backbone + final head)`,
    );
    for (const w of warnings) console.warn(`warning: ${w}`);
    console.log(`wrote ${relative(process.cwd(), manifestPath)}`);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof SplitError) {
    console.error(`model:split: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
