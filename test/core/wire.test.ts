import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { decodeTensor, encodeTensor } from '../../core/tensor-codec.js';
import {
  decodeOffload,
  decodeResult,
  encodeMessage,
  PROTOCOL_VERSION,
  WireError,
  type OffloadMessage,
  type ResultMessage,
} from '../../core/wire.js';

const tensor = encodeTensor(new Float32Array([1, 0, -2.5, 3]), [1, 4], { scheme: 'fp32' });
const offload: OffloadMessage = {
  v: PROTOCOL_VERSION,
  requestId: 'req_0123456789',
  modelId: 'resnet56-fmnist',
  split: 3,
  threshold: 0.9,
  tensor,
  context: { deviceMs: 4.5 },
};

describe('wire format', () => {
  it('round-trips an offload with its binary payload', () => {
    const back = decodeOffload(encodeMessage(offload));
    expect(back.requestId).toBe(offload.requestId);
    expect(Array.from(back.tensor.data)).toEqual(Array.from(tensor.data));
    expect(back.context?.deviceMs).toBe(4.5);
  });

  it('carries the lossless and quantised codec headers and rejects malformed ones', () => {
    const v = new Float32Array(64).map((_, i) => (i % 2 ? 0 : i / 7));
    for (const spec of [
      { scheme: 'lossless' },
      { scheme: 'quant', bits: 4, granularity: 'channel' },
    ] as const) {
      const t = encodeTensor(v, [1, 4, 4, 4], spec);
      const back = decodeOffload(encodeMessage({ ...offload, tensor: t }));
      expect(back.tensor.codec).toEqual(t.codec);
      expect(decodeTensor(back.tensor).values).toEqual(decodeTensor(t).values);
    }
    const q = encodeTensor(v, [1, 4, 4, 4], { scheme: 'quant', bits: 8 });
    const bad = { ...q, codec: { ...q.codec, bits: 5 } } as unknown as typeof q;
    expect(() => decodeOffload(encodeMessage({ ...offload, tensor: bad }))).toThrow(/tensor\.codec/);
  });

  it('round-trips a result with a plan', () => {
    const r: ResultMessage = {
      v: PROTOCOL_VERSION,
      requestId: 'req_0123456789',
      status: 'done',
      exit: 2,
      label: 7,
      confidence: 0.97,
      serverMs: 3.2,
      queueMs: 0.1,
      blocksRun: 5,
      plan: { split: 4, threshold: 0.8, codec: { scheme: 'fp32' } },
    };
    expect(decodeResult(encodeMessage(r))).toEqual(r);
  });

  it('rejects other protocol versions with a message naming both', () => {
    const body = new Packr({ useRecords: false }).pack({ ...offload, v: 99 });
    expect(() => decodeOffload(body)).toThrow(/unsupported protocol version 99.*speaks 3\b/);
  });

  it('rejects garbage, non-maps and missing fields as WireError', () => {
    expect(() => decodeOffload(new Uint8Array([0xc1, 0xff, 0x00]))).toThrow(WireError);
    expect(() => decodeOffload(new Packr({ useRecords: false }).pack([1, 2]))).toThrow(/msgpack map/);
    const { tensor: _t, ...noTensor } = offload;
    expect(() => decodeOffload(new Packr({ useRecords: false }).pack(noTensor))).toThrow(/tensor/);
    expect(() =>
      decodeOffload(new Packr({ useRecords: false }).pack({ ...offload, requestId: 'x' })),
    ).toThrow(/request id/);
  });
});
