// The msgpack bodies that once made a service answer 500 (or two services disagree), built from any valid offload:
// an integer protocol version in a 64-bit encoding, structured-clone cycles, msgpackr records, nesting at and just
// past the depth limit, maps past the item limit, trailing bytes, non-finite activations and quant headers that
// decode past float32. Each comes with the status every service must answer. Shared by the worker's, the backend's
// and the hostile storm's tests so all three hold the same line.

import { Packr } from 'msgpackr';
import { MAX_MSGPACK_DEPTH, MAX_MSGPACK_ITEMS, packMsgpack } from '../../core/msgpack.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import type { OffloadMessage } from '../../core/wire.js';

export interface HostileCase {
  name: string;
  body: Uint8Array;
  status: 200 | 400;
  /** What the error must say (for the 400s). */
  error?: RegExp;
}

/** `depth` nested arrays around null: [[[…null…]]]. */
function nested(depth: number): unknown {
  let v: unknown = null;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/**
 * Hostile variants of `valid` (a message for a split whose activation has `valuesLength` elements); `fresh()` gives a
 * new request id for each case that should succeed.
 */
export function hostileCases(valid: OffloadMessage, fresh: () => string): HostileCase[] {
  const plain = new Packr({ useRecords: false });
  const cyclic: Record<string, unknown> = { ...valid, requestId: fresh() };
  cyclic.context = cyclic;
  const n = valid.tensor.shape.reduce((a, b) => a * b, 1);
  const withValue = (v: number) => {
    const values = new Float32Array(n).fill(0.5);
    values[n - 1] = v;
    return packMsgpack({
      ...valid,
      requestId: fresh(),
      tensor: encodeTensor(values, valid.tensor.shape, { scheme: 'fp32' }),
    });
  };
  const quant = encodeTensor(new Float32Array(n).fill(0.5), valid.tensor.shape, { scheme: 'quant', bits: 8 });
  const bigMap = Object.fromEntries(Array.from({ length: MAX_MSGPACK_ITEMS }, (_, i) => [`k${i}`, i]));
  const body = packMsgpack({ ...valid, requestId: fresh() });
  return [
    {
      name: 'protocol version as uint64',
      body: plain.pack({ ...valid, requestId: fresh(), v: BigInt(valid.v) }),
      status: 200,
    },
    {
      name: 'protocol version as a huge uint64',
      body: plain.pack({ ...valid, v: 2n ** 63n + 2n }),
      status: 400,
      error: /unsupported protocol version/,
    },
    {
      name: 'structured-clone cycle',
      body: new Packr({ structuredClone: true, useRecords: false }).pack(cyclic),
      status: 400,
      error: /extension types are not accepted/,
    },
    {
      name: 'msgpackr records',
      body: new Packr({ useRecords: true }).pack({ ...valid, pad: [{ a: 1 }, { a: 2 }] }),
      status: 400,
      error: /extension types are not accepted/,
    },
    {
      // root map (1) > context map (2) > arrays: exactly the limit is accepted (the unknown key is dropped)
      name: 'nesting at the depth limit',
      body: plain.pack({ ...valid, requestId: fresh(), context: { deep: nested(MAX_MSGPACK_DEPTH - 2) } }),
      status: 200,
    },
    {
      name: 'nesting one past the depth limit',
      body: plain.pack({ ...valid, context: { deep: nested(MAX_MSGPACK_DEPTH - 1) } }),
      status: 400,
      error: /nesting deeper than 16 levels/,
    },
    {
      name: 'nesting far past the limit (stack-overflow depth)',
      body: new Uint8Array([...new Uint8Array(200_000).fill(0x91), 0xc0]),
      status: 400,
      error: /nesting deeper/,
    },
    {
      name: 'a map past the item limit',
      body: new Packr({ useRecords: false, variableMapSize: true }).pack({ ...valid, context: bigMap }),
      status: 400,
      error: /more than 20000 msgpack values/,
    },
    {
      name: 'an array claiming 4 billion items',
      body: new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]),
      status: 400,
      error: /ends early/,
    },
    {
      name: 'a map with a non-string key',
      body: new Uint8Array([0x81, 0x01, 0x02]),
      status: 400,
      error: /keys must be strings/,
    },
    {
      name: 'trailing bytes',
      body: new Uint8Array([...body, 0xc0]),
      status: 400,
      error: /1 trailing bytes/,
    },
    { name: 'a NaN activation', body: withValue(NaN), status: 400, error: /not finite/ },
    { name: 'an infinite activation', body: withValue(Infinity), status: 400, error: /not finite/ },
    {
      name: 'an activation at float32 max',
      body: withValue(3.4e38),
      status: 400,
      error: /beyond ±1000000000/,
    },
    {
      name: 'a quant header decoding past float32',
      body: packMsgpack({
        ...valid,
        tensor: { ...quant, codec: { ...quant.codec, min: [Math.fround(3e38)], step: [Math.fround(3e38)] } },
      }),
      status: 400,
      error: /overflows float32/,
    },
  ];
}
