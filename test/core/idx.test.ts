import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from '../../core/idx.js';

describe('IDX', () => {
  it('round-trips and rejects truncated data', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const bytes = encodeIdx([2, 3], data);
    expect(parseIdx(bytes)).toEqual({ dims: [2, 3], data });
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 1))).toThrow(/expected 6 data bytes/);
    expect(() => parseIdx(new Uint8Array([1, 2]))).toThrow(/too short/);
  });
});
