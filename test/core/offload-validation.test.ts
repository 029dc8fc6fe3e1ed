// core/offload-validation.ts against the real resnet56-fmnist manifest: every rule with its message, and a property
// that mutating any field of a valid offload yields either a valid offload or an OffloadError / WireError — the only
// two errors the services map to 400 — never anything else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ABS_ACTIVATION,
  OffloadError,
  checkActivationValues,
  checkOffload,
  serverSplits,
  validateOffload,
} from '../../core/offload-validation.js';
import type { CodecSpec } from '../../core/codec-spec.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import {
  PROTOCOL_VERSION,
  WireError,
  decodeOffload,
  encodeMessage,
  type OffloadMessage,
} from '../../core/wire.js';
import { readManifest } from '../client/support/reference.js';

const manifest = readManifest();

function offloadAt(split: number, values?: Float32Array, over: Partial<OffloadMessage> = {}): OffloadMessage {
  const shape = manifest.splits[split]!.tensor.shape.map((d, i) => (i === 0 ? 1 : d));
  const n = shape.reduce((a, b) => a * b, 1);
  const v = values ?? new Float32Array(n).map((_, i) => (i % 3 ? 0 : (i % 17) / 4));
  return {
    v: PROTOCOL_VERSION,
    requestId: 'req_0123456789',
    modelId: manifest.id,
    split,
    threshold: 0.9,
    tensor: encodeTensor(v, shape, { scheme: 'quant', bits: 8 }),
    context: {},
    ...over,
  };
}

const problem = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof OffloadError) return `${e.problem}: ${e.message}`;
    throw e;
  }
  return 'valid';
};

describe('offload validation', () => {
  it('accepts every server-side split with its decoded activation', () => {
    expect(serverSplits(manifest)).toHaveLength(28);
    for (const split of serverSplits(manifest)) {
      const v = validateOffload(manifest, offloadAt(split));
      expect(v.shape).toEqual(offloadAt(split).tensor.shape);
      expect(v.values.length).toBe(v.shape.reduce((a, b) => a * b, 1));
    }
  });

  it('names the rule each bad offload breaks', () => {
    const good = offloadAt(5);
    expect(problem(() => validateOffload(manifest, { ...good, split: 28 }))).toMatch(
      /^split: split 28 is not a server-side split point/,
    );
    expect(problem(() => validateOffload(manifest, { ...good, exit: 0 }))).toMatch(
      /^exit: exit 0 is not a server-side exit .* at split 5/,
    );
    expect(problem(() => validateOffload(manifest, { ...good, split: 11 }))).toMatch(
      /^shape: tensor shape \[1,16,32,32\] does not match split 11 .* expected \[1,32,16,16\]/,
    );
    const t = good.tensor;
    expect(
      problem(() => validateOffload(manifest, { ...good, tensor: { ...t, data: t.data.subarray(1) } })),
    ).toMatch(/^payload: /);
    const qc = t.codec;
    if (qc.scheme !== 'quant') throw new Error('quant expected');
    expect(
      problem(() => validateOffload(manifest, { ...good, tensor: { ...t, codec: { ...qc, nonZero: 1 } } })),
    ).toMatch(/^payload: bad tensor payload: /);
    expect(
      problem(() => validateOffload(manifest, { ...good, tensor: { ...t, codec: { ...qc, min: [2e9] } } })),
    ).toMatch(/^codec: .*beyond ±1000000000/);
  });

  it('refuses non-finite and out-of-range activations, whatever the codec', () => {
    const n = 16 * 32 * 32;
    for (const bad of [NaN, Infinity, -Infinity, 2 * MAX_ABS_ACTIVATION]) {
      const values = new Float32Array(n).fill(1);
      values[777] = bad;
      expect(problem(() => checkActivationValues(values))).toMatch(
        /^values: activation value .* at index 777/,
      );
      for (const spec of [{ scheme: 'fp32' }, { scheme: 'lossless' }] as const) {
        const msg = offloadAt(5, undefined, {
          tensor: encodeTensor(values, [1, 16, 32, 32], spec),
        });
        expect(problem(() => validateOffload(manifest, msg))).toMatch(/^values: /);
      }
    }
    expect(
      problem(() => checkActivationValues(new Float32Array([MAX_ABS_ACTIVATION, -MAX_ABS_ACTIVATION]))),
    ).toBe('valid');
  });

  it('turns any mutation of a valid body into a valid offload or a 400-class error, nothing else', () => {
    const body = encodeMessage(offloadAt(3));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(body.byteLength - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (edits) => {
          const b = body.slice();
          for (const [at, byte] of edits) b[at] = byte;
          try {
            validateOffload(manifest, decodeOffload(b));
          } catch (e) {
            if (!(e instanceof OffloadError || e instanceof WireError)) throw e;
          }
        },
      ),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('gives the edge (checkOffload, no value decode for quant) the same verdict as the full validation', () => {
    const verdict = (f: () => unknown): string => {
      try {
        f();
        return 'valid';
      } catch (e) {
        if (e instanceof OffloadError) return `${e.problem}: ${e.message}`;
        if (e instanceof WireError) return 'wire';
        throw e;
      }
    };
    const n = 16 * 32 * 32;
    const values = new Float32Array(n).map((_, i) => (i % 3 ? 0 : ((i % 17) - 5) / 4));
    const specs: CodecSpec[] = [
      { scheme: 'quant', bits: 4 },
      { scheme: 'quant', bits: 6 },
      { scheme: 'quant', bits: 8, granularity: 'channel' },
      { scheme: 'lossless' },
      { scheme: 'fp32' },
    ];
    const bodies = specs.map((spec) => {
      const o = offloadAt(3);
      return encodeMessage({ ...o, tensor: encodeTensor(values, o.tensor.shape, spec) });
    });
    let invalid = 0;
    fc.assert(
      fc.property(
        fc.nat(bodies.length - 1),
        fc.array(fc.tuple(fc.nat(1 << 20), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const b = bodies[which]!.slice();
          for (const [at, byte] of edits) b[at % b.byteLength] = byte;
          const full = verdict(() => validateOffload(manifest, decodeOffload(b)));
          const edge = verdict(() => checkOffload(manifest, decodeOffload(b)));
          if (full !== 'valid') invalid++;
          expect(edge).toBe(full);
        },
      ),
      { seed: 11, numRuns: 4000 },
    );
    expect(invalid).toBeGreaterThan(500); // the mutations do reach the payload's rules, not just valid bodies
  });
});
