// The splitter on the real model: ResNet-56 with six SDN exits must give stem + 27 residual blocks, exits after
// blocks 4, 8, ..., 24 and the final one after 27, and chaining the emitted files must reproduce the source.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type ModelManifest } from '../../../core/manifest.js';
import { readMeta } from '../../../tools/split/meta.js';
import { decodeModel, int64 } from '../../../tools/split/onnx-proto.js';
import { splitModel } from '../../../tools/split/split-model.js';
import { chainDiffs, fmnistBatch } from './helpers.js';

const SOURCE = 'models/resnet56-fmnist/train/model.onnx';
let tmp: string;
let dir: string;
let m: ModelManifest;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'split-'));
  dir = join(tmp, 'resnet56-fmnist');
  m = (await splitModel(SOURCE, dir, { meta: readMeta('models/resnet56-fmnist/train/meta.json') })).manifest;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('split ResNet-56', () => {
  it('finds 28 blocks and 7 exits at the SDN positions', () => {
    expect(m.blocks).toHaveLength(28);
    expect(m.exits.map((e) => e.afterBlock)).toEqual([4, 8, 12, 16, 20, 24, 27]);
    expect(m.exits.map((e) => e.final)).toEqual([false, false, false, false, false, false, true]);
    expect(m.exits.map((e) => e.output.name)).toEqual([
      'exit0',
      'exit1',
      'exit2',
      'exit3',
      'exit4',
      'exit5',
      'final',
    ]);
    // SDN placement: exits at about 15/30/45/60/75/90 % of the MACs.
    m.exits
      .slice(0, 6)
      .forEach((e, i) => expect(Math.abs(e.macsFraction - 0.15 * (i + 1))).toBeLessThan(0.02));
    expect(m.exits[6]!.macsFraction).toBe(1);
    expect(m.splits.map((s) => s.split)).toEqual([...Array(28).keys()]);
    expect(m.splits[0]).toMatchObject({ tensor: { name: 'input', shape: [-1, 1, 32, 32] }, fp32Bytes: 4096 });
    expect(m.splits[1]!.fp32Bytes).toBe(16 * 32 * 32 * 4);
    expect(m.classes[0]).toBe('T-shirt/top');
    expect(m.source?.outputs).toHaveLength(7);
  });

  it('writes a manifest that parses and block files that keep only their weights and opsets', () => {
    parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const src = decodeModel(readFileSync(SOURCE), SOURCE);
    const totalParams = src.graph!.initializer.reduce(
      (s, t) => s + (t.dims ?? []).map(int64).reduce((a, b) => a * b, 1),
      0,
    );
    const parts = [...m.blocks, ...m.exits];
    expect(parts.reduce((s, p) => s + p.params, 0)).toBe(totalParams);
    const b1 = decodeModel(readFileSync(join(dir, m.blocks[1]!.file)), 'block 1');
    expect(b1.opset_import.map((o) => int64(o.version))).toEqual(
      src.opset_import.map((o) => int64(o.version)),
    );
    expect(b1.graph!.input[0]!.type!.tensor_type!.shape!.dim![0]!.dim_param).toBe('batch');
  });

  it('chained block and exit files reproduce every exit of the source model', async () => {
    const diffs = await chainDiffs(SOURCE, dir, m, fmnistBatch(4));
    expect(diffs).toHaveLength(7);
    for (const d of diffs) expect(d).toBeLessThanOrEqual(1e-4);
  });

  it('the committed artifacts under models/resnet56-fmnist match a fresh split', () => {
    const committed = parseManifest(JSON.parse(readFileSync('models/resnet56-fmnist/manifest.json', 'utf8')));
    const strip = (x: ModelManifest) => ({ ...x, profile: undefined, source: { ...x.source, file: '' } });
    expect(strip(committed)).toEqual(strip(m));
  });

  it('batch 1 runs through a block too (dynamic batch preserved)', async () => {
    const s = await ort.InferenceSession.create(join(dir, m.blocks[0]!.file));
    const out = await s.run({ input: fmnistBatch(1) });
    expect(out[m.blocks[0]!.outputs[0]!.name]!.dims).toEqual([1, 16, 32, 32]);
  });
});
