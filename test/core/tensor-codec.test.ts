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
