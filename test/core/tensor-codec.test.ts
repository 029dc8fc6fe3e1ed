import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CodecError, decodeTensor, encodeTensor } from '../../core/tensor-codec.js';

describe('fp32 codec', () => {
  it('round-trips any float32 tensor exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
        const v = new Float32Array(xs);
        const { values, shape } = decodeTensor(encodeTensor(v, [1, v.length], { scheme: 'fp32' }));
        expect(shape).toEqual([1, v.length]);
        expect(Array.from(values)).toEqual(Array.from(v));
      }),
    );
  });

  it('validates shapes and lengths before allocating', () => {
    const ok = encodeTensor(new Float32Array(4), [1, 4], { scheme: 'fp32' });
    expect(() => decodeTensor({ ...ok, shape: [1, 5] })).toThrow(/payload is 16 bytes, shape needs 20/);
    expect(() => decodeTensor({ ...ok, shape: [1e9, 1e9] })).toThrow(CodecError);
    expect(() => decodeTensor({ ...ok, shape: [0] })).toThrow(/invalid tensor dimension/);
    expect(() => decodeTensor({ ...ok, shape: [] })).toThrow(/dimensions/);
    expect(() => decodeTensor({ ...ok, codec: { scheme: 'zip' as 'fp32' } })).toThrow(
      /unknown codec scheme "zip"/,
    );
  });

  it('survives random corruption of the header without crashing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 1 << 20 }), { minLength: 0, maxLength: 9 }),
        fc.uint8Array({ maxLength: 64 }),
        (shape, data) => {
          try {
            const r = decodeTensor({ codec: { scheme: 'fp32' }, shape, data });
            expect(r.values.length * 4).toBe(data.length);
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        },
      ),
    );
  });
});

// ---- communication optimiser: lossless and quantised schemes -------------------------------------------------

const relu = (xs: number[]) => new Float32Array(xs.map((x) => (x > 0 ? x : 0)));
const activation = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
  .chain(([c, h, w]) =>
    fc
      .array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: c * h * w, maxLength: c * h * w })
      .map((xs) => ({ values: relu(xs), shape: [1, c, h, w] })),
  );
const quantSpec = fc.record({
  scheme: fc.constant('quant' as const),
  bits: fc.constantFrom(4 as const, 6 as const, 8 as const),
  granularity: fc.constantFrom('tensor' as const, 'channel' as const),
});

describe('lossless codec', () => {
  it('round-trips any float32 bit pattern exactly (-0 and NaN payloads included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 200 }),
        (bits) => {
          const sparse = bits.map((b, i) => (i % 3 === 0 ? 0 : b));
          const v = new Float32Array(new Uint32Array(sparse).buffer);
          const e = encodeTensor(v, [1, v.length], { scheme: 'lossless' });
          const d = decodeTensor(e);
          expect(Array.from(new Uint32Array(d.values.buffer))).toEqual(sparse);
        },
      ),
    );
  });

  it('beats fp32 on sparse activations', () => {
    const v = new Float32Array(4096).map((_, i) => (i % 4 ? 0 : 1 + (i % 7)));
    const e = encodeTensor(v, [1, 16, 16, 16], { scheme: 'lossless' });
    expect(e.codec).toMatchObject({ scheme: 'lossless', nonZero: 1024, compression: 'deflate' });
    expect(e.data.byteLength).toBeLessThan(4096 * 4 * 0.3);
  });
});

describe('quantised codec', () => {
  it('keeps zeros exact and every other value within half a step', () => {
    fc.assert(
      fc.property(activation, quantSpec, fc.boolean(), ({ values, shape }, spec, compress) => {
        const e = encodeTensor(values, shape, spec, { compress });
        const d = decodeTensor(e);
        if (e.codec.scheme !== 'quant') throw new Error('expected quant');
        const maxStep = Math.max(...e.codec.step);
        values.forEach((x, i) => {
          if (x === 0) expect(d.values[i]).toBe(0);
          else
            expect(Math.abs(d.values[i]! - x)).toBeLessThanOrEqual(maxStep / 2 + 1e-5 * Math.abs(x) + 1e-6);
        });
      }),
    );
  });

  it('gives the same values with and without the byte compressor (what the profiler relies on)', () => {
    fc.assert(
      fc.property(activation, quantSpec, ({ values, shape }, spec) => {
        const a = decodeTensor(encodeTensor(values, shape, spec)).values;
        const b = decodeTensor(encodeTensor(values, shape, spec, { compress: false })).values;
        expect(Array.from(a)).toEqual(Array.from(b));
      }),
    );
  });

  it('refuses non-finite values and unknown bit-widths', () => {
    expect(() => encodeTensor(new Float32Array([1, NaN]), [1, 2], { scheme: 'quant', bits: 8 })).toThrow(
      CodecError,
    );
    expect(() => encodeTensor(new Float32Array([1]), [1, 1], { scheme: 'quant', bits: 5 as 4 })).toThrow(
      /bits/,
    );
  });
});

describe('decoder against hostile input', () => {
  const values = new Float32Array(512).map((_, i) => (i % 3 ? 0 : (i % 17) / 3));
  const shape = [1, 2, 16, 16];
  const good = [
    encodeTensor(values, shape, { scheme: 'lossless' }),
    encodeTensor(values, shape, { scheme: 'quant', bits: 4 }),
    encodeTensor(values, shape, { scheme: 'quant', bits: 6, granularity: 'channel' }),
    encodeTensor(values, shape, { scheme: 'quant', bits: 8 }, { compress: false }),
  ];

  it('answers random payload corruption with a CodecError or a tensor of the right size', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...good),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (t, edits, cut) => {
          const data = t.data.slice(0, cut === undefined ? undefined : cut % (t.data.length + 1));
          for (const [at, b] of edits) if (data.length) data[at % data.length] = b;
          try {
            expect(decodeTensor({ ...t, data }).values.length).toBe(512);
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        },
      ),
    );
  });

  it('answers random header corruption with a CodecError', () => {
    const field = fc.oneof(
      fc.integer({ min: -10, max: 1 << 30 }),
      fc.double(),
      fc.constantFrom('deflate', 'none', 'bitmap', 'rle', null, undefined),
      fc.array(fc.double(), { maxLength: 4 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...good),
        fc.constantFrom('bits', 'granularity', 'min', 'step', 'layout', 'compression', 'nonZero', 'scheme'),
        field,
        (t, key, v) => {
          try {
            expect(
              decodeTensor({ ...t, codec: { ...t.codec, [key]: v } as typeof t.codec }).values.length,
            ).toBe(512);
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        },
      ),
    );
  });

  it('never inflates past what the header announces (decompression bomb)', () => {
    const t = good[1]!;
    if (t.codec.scheme !== 'quant') throw new Error('expected quant');
    // A small stream that inflates to ~290 kB under a header that announces a few hundred bytes.
    const bomb = encodeTensor(new Float32Array(1 << 18).fill(1), [1, 1 << 18], { scheme: 'quant', bits: 8 });
    expect(() => decodeTensor({ ...t, data: bomb.data })).toThrow(CodecError);
    expect(() => decodeTensor({ ...t, codec: { ...t.codec, nonZero: 1e9 } as typeof t.codec })).toThrow(
      /nonZero/,
    );
  });
});
