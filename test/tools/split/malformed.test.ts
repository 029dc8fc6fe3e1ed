// Inputs the splitter must refuse with one clear SplitError message (the CLI prints it without a stack trace).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SplitError } from '../../../tools/split/errors.js';
import { encodeModel, type OnnxNode } from '../../../tools/split/onnx-proto.js';
import { splitModel } from '../../../tools/split/split-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'split-bad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

/** A tiny float model: input x [batch,4], nodes given as [op, inputs, outputs]. */
function tiny(nodes: [string, string[], string[]][], outputs: string[], elemType = 1): Uint8Array {
  const vi = (name: string) => ({
    name,
    type: {
      tensor_type: { elem_type: elemType, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 4 }] } },
    },
  });
  const node: OnnxNode[] = nodes.map(([op_type, input, output]) => ({ op_type, input, output }));
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'tiny', node, initializer: [], input: [vi('x')], output: outputs.map(vi) },
  });
}

async function failure(path: string): Promise<SplitError> {
  const err = await splitModel(path, join(tmp, 'out')).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SplitError);
  return err as SplitError;
}

describe('malformed input', () => {
  it('a missing file', async () => {
    expect((await failure(join(tmp, 'nope.onnx'))).message).toMatch(/model file not found/);
  });

  it('random bytes', async () => {
    let seed = 42;
    const bytes = Uint8Array.from(
      { length: 4096 },
      () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255,
    );
    expect((await failure(file('random.onnx', bytes))).message).toMatch(/is not an ONNX model/);
  });

  it('a truncated model', async () => {
    const whole = readFileSync('test/fixtures/inception-mini.onnx');
    for (const cut of [10, 1000, whole.length - 100]) {
      expect((await failure(file(`trunc-${cut}.onnx`, whole.subarray(0, cut)))).message).toMatch(
        /is not an ONNX model/,
      );
    }
  });

  it('no graph outputs', async () => {
    expect((await failure(file('no-out.onnx', tiny([['Relu', ['x'], ['y']]], [])))).message).toMatch(
      /no graph outputs/,
    );
  });

  it('no Relu cut point', async () => {
    const bytes = tiny(
      [
        ['Sigmoid', ['x'], ['a']],
        ['Tanh', ['a'], ['y']],
      ],
      ['y'],
    );
    expect((await failure(file('no-cut.onnx', bytes))).message).toMatch(/no cut points/);
  });

  it('an exit head on a tensor that is not a cut', async () => {
    const bytes = tiny(
      [
        ['Relu', ['x'], ['a']],
        ['Sigmoid', ['a'], ['b']],
        ['Tanh', ['b'], ['e0']],
        ['Relu', ['b'], ['c']],
        ['Sigmoid', ['c'], ['y']],
      ],
      ['e0', 'y'],
    );
    expect((await failure(file('bad-exit.onnx', bytes))).message).toMatch(
      /exit head 0 \(e0\) reads b, which is not a cut/,
    );
  });

  it('an unsupported dtype', async () => {
    const bytes = tiny(
      [
        ['Relu', ['x'], ['a']],
        ['Neg', ['a'], ['y']],
      ],
      ['y'],
      10,
    );
    expect((await failure(file('fp16.onnx', bytes))).message).toMatch(/dtype float16; only float32/);
  });
});
