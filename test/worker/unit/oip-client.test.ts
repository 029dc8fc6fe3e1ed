// The translation between SPINN's offload/result and the Open Inference Protocol v2 (worker/oip-client.ts), on the
// real manifest: the v2 JSON request for one image, and a v2 answer read back as the ResultMessage (probabilities or
// logits, the final exit or the server's `exit` output), with a clear error for every answer it cannot use.

import { describe, expect, it } from 'vitest';
import type { OipModelSpec } from '../../../worker/backends-config.js';
import { oipRequest, resultFromOip, type OipCall } from '../../../worker/oip-client.js';
import { parseManifest } from '../../../core/manifest.js';
import manifestJson from '../../../models/resnet56-fmnist/manifest.json';

// Imported, not read from disk: this folder is type-checked with the worker's types (no Node APIs).
const manifest = parseManifest(manifestJson);
const classes = manifest.classes.length;
const finalExit = manifest.exits.length - 1;
const plain: OipModelSpec = { model: 'resnet56', output: 'probabilities', softmax: false, earlyExit: false };
const values = new Float32Array(manifest.input.shape.slice(1).reduce((a, b) => a * b, 1)).fill(0.25);
const call: OipCall = { requestId: 'oip-1', threshold: 0.8, manifest, values };
const probs = Array.from({ length: classes }, (_, i) => (i === 3 ? 0.91 : 0.01));

describe('v2 request', () => {
  it('one FP32 image in the manifest shape with batch 1, the scores output; threshold only for earlyExit', () => {
    const req = oipRequest(plain, call) as {
      inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    expect(req).toMatchObject({ id: 'oip-1', outputs: [{ name: 'probabilities' }] });
    expect(req).not.toHaveProperty('parameters');
    expect(req.inputs[0]).toMatchObject({
      name: manifest.input.name,
      shape: [1, ...manifest.input.shape.slice(1)],
      datatype: 'FP32',
    });
    expect(req.inputs[0]!.data).toHaveLength(values.length);
    const early = oipRequest({ ...plain, earlyExit: true, input: 'x' }, call);
    expect(early).toMatchObject({
      parameters: { threshold: 0.8 },
      inputs: [{ name: 'x' }],
      outputs: [{ name: 'probabilities' }, { name: 'exit' }],
    });
  });
});

describe('v2 answer', () => {
  it('probabilities at the final exit: label, confidence, blocks run, the call time as serverMs', () => {
    const r = resultFromOip(
      plain,
      call,
      { outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, classes], data: probs }] },
      7,
    );
    expect(r).toMatchObject({
      requestId: 'oip-1',
      status: 'done',
      label: 3,
      exit: finalExit,
      serverMs: 7,
      queueMs: 0,
    });
    expect(r.confidence).toBeCloseTo(0.91);
    expect(r.blocksRun).toBe(manifest.exits[finalExit]!.afterBlock + 1);
  });

  it('logits (nested data) through softmax; the exit a SPINN-aware server reports', () => {
    const logits = [Array.from({ length: classes }, (_, i) => (i === 7 ? 5 : 0))];
    const spec = { ...plain, output: 'logits', softmax: true, earlyExit: true };
    const r = resultFromOip(
      spec,
      call,
      {
        outputs: [
          { name: 'logits', data: logits },
          { name: 'exit', data: [2] },
        ],
      },
      1,
    );
    expect(r).toMatchObject({ label: 7, exit: 2, blocksRun: manifest.exits[2]!.afterBlock + 1 });
    expect(r.confidence).toBeCloseTo(Math.exp(5) / (Math.exp(5) + classes - 1));
  });

  it('refuses answers it cannot use, saying why', () => {
    const cases: [OipModelSpec, unknown, RegExp][] = [
      [plain, {}, /no outputs array/],
      [plain, { outputs: [{ name: 'other', data: probs }] }, /no output "probabilities"/],
      [
        plain,
        { outputs: [{ name: 'probabilities', data: probs.slice(1) }] },
        /has 9 values; the model has 10 classes/,
      ],
      [
        plain,
        { outputs: [{ name: 'probabilities', data: [...probs.slice(1), 'x'] }] },
        /not a finite number/,
      ],
      [
        { ...plain, earlyExit: true },
        { outputs: [{ name: 'probabilities', data: probs }] },
        /output exit null/,
      ],
      [
        { ...plain, earlyExit: true },
        {
          outputs: [
            { name: 'probabilities', data: probs },
            { name: 'exit', data: [99] },
          ],
        },
        /output exit 99/,
      ],
    ];
    for (const [spec, json, message] of cases)
      expect(() => resultFromOip(spec, call, json, 1)).toThrow(message);
  });
});
