// Model-agnosticism: a branched Inception-style graph (tools/split/fixtures/make_branched.py). Cuts may only
// fall on the stem Relu and the post-concat Relus, never on a Relu inside a branch, and the chained parts must
// reproduce both outputs.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../../core/manifest.js';
import { buildGraph } from '../../../tools/split/graph.js';
import { decodeModel } from '../../../tools/split/onnx-proto.js';
import { splitModel } from '../../../tools/split/split-model.js';
import { chainDiffs, fmnistBatch } from './helpers.js';

const SOURCE = 'test/fixtures/inception-mini.onnx';
let tmp: string;
let dir: string;
let m: ModelManifest;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'split-'));
  dir = join(tmp, 'inception-mini');
  m = (await splitModel(SOURCE, dir)).manifest;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('split an Inception-style branched graph', () => {
  it('cuts only after the stem and after each module concat', () => {
    const g = buildGraph(decodeModel(readFileSync(SOURCE), SOURCE).graph!);
    const producerOp = (t: string) => g.producer.get(t)!;
    // Stem + three modules.
    expect(m.blocks).toHaveLength(4);
    for (const b of m.blocks.slice(1)) {
      const relu = producerOp(b.outputs[0]!.name);
      expect(relu.op_type).toBe('Relu');
      expect(producerOp(relu.input[0]!).op_type).toBe('Concat');
    }
    // Each module has Relus inside its 3x3 and 5x5 branches; none of them became a cut.
    const relus = g.graph.node.filter((n) => n.op_type === 'Relu').length;
    expect(relus).toBe(1 + 3 * 3);
    expect(m.exits.map((e) => [e.output.name, e.afterBlock, e.final])).toEqual([
      ['exit0', 1, false],
      ['final', 3, true],
    ]);
    expect(m.id).toBe('inception-mini');
    expect(m.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('chained parts reproduce both outputs', async () => {
    const diffs = await chainDiffs(SOURCE, dir, m, fmnistBatch(3));
    for (const d of diffs) expect(d).toBeLessThanOrEqual(1e-4);
  });

  it('re-splitting over a manifest that has a profile works and says the profile was dropped', async () => {
    const path = join(dir, 'manifest.json');
    const withProfile = { ...JSON.parse(readFileSync(path, 'utf8')), profile: { anything: true } };
    writeFileSync(path, JSON.stringify(withProfile));
    const again = await splitModel(SOURCE, dir);
    expect(again.warnings.join(' ')).toMatch(/profile/);
    expect(again.manifest).toEqual(m);
    expect('profile' in JSON.parse(readFileSync(path, 'utf8'))).toBe(false);
  });
});
