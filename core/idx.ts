// Parser for the IDX format that MNIST-family datasets ship in. Pure byte handling (the caller gunzips), so the
// profiler in Node and the demo page in a browser read the same committed sample the same way.

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length < 4) throw new Error('IDX: file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) throw new Error('IDX: bad magic');
  const type = bytes[2]!;
  const rank = bytes[3]!;
  if (type !== 0x08)
    throw new Error(`IDX: only unsigned byte data is supported (type 0x${type.toString(16)})`);
  if (rank < 1 || rank > 4 || bytes.length < 4 + 4 * rank) throw new Error('IDX: bad rank');
  const dims: number[] = [];
  let n = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i);
    dims.push(d);
    n *= d;
  }
  const start = 4 + 4 * rank;
  if (bytes.length - start !== n)
    throw new Error(`IDX: expected ${n} data bytes, found ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start) };
}

export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
