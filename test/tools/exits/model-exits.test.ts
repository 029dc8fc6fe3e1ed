// model:exits on a CNN this project never saw (test/fixtures/tiny-cnn.onnx, tools/exits/fixtures/make_tiny_cnn.py),
// with fresh synthetic images as a PNG/JPEG class-folder set and as a grey IDX pair: the final exit must reproduce
// the input model's logits, early exits must be well above chance, and models it cannot serve must fail clearly.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../core/manifest.js';
import { preprocessImage } from '../../../core/preprocess.js';
import { loadDataset } from '../../../tools/dataset/load-dataset.js';
import { attachExits, type AttachExitsOptions } from '../../../tools/exits/attach-exits.js';
import { ExitsError } from '../../../tools/exits/cut-points.js';
import { encodeModel, type OnnxNode } from '../../../tools/split/onnx-proto.js';
import { chainDiffs } from '../split/helpers.js';
import { CLASSES, TINY_META, writeIdx, writeImageFolder } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'model-exits-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MODEL = 'test/fixtures/tiny-cnn.onnx';
const quick: Partial<AttachExitsOptions> = { latency: false, epochs: 8, codecLimit: 40 };

describe('model:exits on an unseen CNN', () => {
  it('turns a class-folder image set into a served model whose final exit is the input model', async () => {
    const data = join(tmp, 'folder');
    writeImageFolder(data, 50);
    const out = join(tmp, 'out-folder');
    const r = await attachExits({
      model: MODEL,
      data,
      outDir: out,
      meta: TINY_META,
      valFraction: 0.3,
      seed: 3,
      ...quick,
    });

    const m = parseManifest(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(m.id).toBe('tiny-cnn');
    expect(m.classes).toEqual(CLASSES);
    expect(m.input.preprocessing).toEqual(TINY_META.preprocessing);
    expect(m.exits.at(-1)!.final).toBe(true);
    expect(m.exits.length).toBe(r.exits.length + 1);
    // Exits sit at increasing MAC shares and never on the final classifier's own cut.
    const shares = r.exits.map((e) => e.macsFraction);
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    expect(shares.at(-1)!).toBeLessThan(0.95);
    // The profile was measured on the held-out part only (60 of 200 images), and says so.
    expect(r.data).toMatchObject({ train: 140, validation: 60, profile: 60 });
    expect(m.profile!.dataset.samples).toBe(60);
    expect(m.profile!.thresholds.at(-1)!.exitFraction.at(-1)).toBe(1);
    // The final exit is the input model's own output: logits within 1e-4 (chained block files vs the source).
    expect(r.finalMaxAbsDiff).toBeLessThan(1e-4);
    expect(r.finalAccuracy).toBeGreaterThan(0.9);
    // Early exits are useful: far above chance (25 %) on images the heads never saw.
    expect(r.exits[0]!.accuracy).toBeGreaterThan(0.6);

    // Every block and exit file chains to what the merged source model computes.
    const ds = loadDataset(data).train;
    const x = new Float32Array(4 * 3 * 16 * 16);
    for (let i = 0; i < 4; i++) x.set(preprocessImage(ds.image(i * 40), m.input), i * 768);
    const diffs = await chainDiffs(
      join(out, m.source!.file),
      out,
      m,
      new ort.Tensor('float32', x, [4, 3, 16, 16]),
    );
    expect(Math.max(...diffs)).toBeLessThan(1e-4);
  });

  it('reads an IDX pair (grey, replicated to colour) and profiles on its test split', async () => {
    const data = join(tmp, 'idx');
    writeIdx(data, 240, 80);
    const out = join(tmp, 'out-idx');
    const r = await attachExits({
      model: MODEL,
      data,
      outDir: out,
      meta: TINY_META,
      targets: [0.2, 0.5],
      ...quick,
    });
    expect(r.exits.length).toBe(2);
    expect(r.data).toMatchObject({ train: 216, validation: 24, profile: 80 });
    expect(r.finalMaxAbsDiff).toBeLessThan(1e-4);
    expect(r.exits[0]!.accuracy).toBeGreaterThan(0.5);
  });
});

/** A tiny float model: input x of `shape`, nodes given as [op, inputs, outputs]. */
function tinyModel(
  nodes: [string, string[], string[]][],
  inputs: [string, number[]][],
  outputs: string[],
): string {
  const vi = (name: string, dims: number[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: dims.map((d) => (d < 0 ? { dim_param: 'n' } : { dim_value: d })) },
      },
    },
  });
  const node: OnnxNode[] = nodes.map(([op_type, input, output]) => ({ op_type, input, output }));
  const path = join(tmp, `m${Math.random().toString(36).slice(2)}.onnx`);
  writeFileSync(
    path,
    encodeModel({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'bad',
        node,
        initializer: [],
        input: inputs.map(([n, d]) => vi(n, d)),
        output: outputs.map((o) => vi(o, [-1, 4])),
      },
    }),
  );
  return path;
}

describe('models model:exits cannot serve', () => {
  const data = join(tmp, 'idx-small');
  writeIdx(data, 40, 0);
  const fails = async (model: string) => {
    const err = await attachExits({ model, data, outDir: join(tmp, 'never'), ...quick }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExitsError);
    return (err as Error).message;
  };

  it('more than one input', async () => {
    const m = tinyModel(
      [['Add', ['a', 'b'], ['y']]],
      [
        ['a', [-1, 4]],
        ['b', [-1, 4]],
      ],
      ['y'],
    );
    expect(await fails(m)).toMatch(/exactly one graph input, found 2.*single image input/);
  });

  it('a non-image input', async () => {
    const m = tinyModel([['Relu', ['x'], ['y']]], [['x', [-1, 4]]], ['y']);
    expect(await fails(m)).toMatch(/is not an image: expected float32 \[N, C, H, W\]/);
  });

  it('no Relu single-tensor cut', async () => {
    const m = tinyModel(
      [
        ['Sigmoid', ['x'], ['a']],
        ['GlobalAveragePool', ['a'], ['p']],
        ['Flatten', ['p'], ['f']],
        ['Tanh', ['f'], ['y']],
      ],
      [['x', [-1, 3, 8, 8]]],
      ['y'],
    );
    expect(await fails(m)).toMatch(/no Relu output is a single-tensor cut/);
  });
});
