// The one msgpack encoder and the one hardened decoder of every hop (client, edge worker, backend). msgpackr does
// the work; what it does not bound is checked first, by a structural scan of the bytes that allocates nothing and
// never recurses, so the edge (workerd) and the backend (Node) accept exactly the same bodies whatever their stack
// depth: nesting, item counts, declared lengths against the bytes present, string-only map keys, no extension types
// (records, structured clone, bundled strings, timestamps, ...) and no trailing bytes. Only bodies that pass reach
// msgpackr, configured to decode 64-bit integers as numbers (never BigInt) and to refuse structured clone.

import { Packr, Unpackr } from 'msgpackr';

/** Deepest nesting of maps and arrays accepted; the deepest field of our messages is 4 levels down. */
export const MAX_MSGPACK_DEPTH = 16;
/** Most values (map keys and values, array items, scalars) in one body; a quant header of 2 × 4096 floats fits. */
export const MAX_MSGPACK_ITEMS = 20_000;

export class MsgpackError extends Error {
  override readonly name = 'MsgpackError';
}

// Records (msgpackr's structure extension) make the encoder generate code with `new Function`, which workerd
// forbids; plain maps keep one encoder for every runtime and the format readable by any msgpack library.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  int64AsType: 'number',
  bundleStrings: false,
});

export function packMsgpack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a body after the structural scan; every refusal is a MsgpackError saying what was wrong. */
export function unpackMsgpack(body: Uint8Array): unknown {
  scanMsgpack(body);
  try {
    return unpackr.unpack(body);
  } catch {
    // The scan accepts only what msgpackr decodes; reaching here would be a msgpackr quirk, not a client's detail.
    throw new MsgpackError('body is not valid msgpack');
  }
}

/** Bytes of the fixed-size scalars after their type byte, by type byte (0 = not a fixed-size scalar). */
const FIXED: Record<number, number> = {
  0xc0: 0, 0xc2: 0, 0xc3: 0, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8,
}; // prettier-ignore

function fail(msg: string): never {
  throw new MsgpackError(msg);
}

/**
 * Walks the encoding of one msgpack value without building it: an explicit stack of "items left" per open map or
 * array, so a hostile nesting costs a bounded loop, not the call stack. Throws MsgpackError on the first problem.
 */
export function scanMsgpack(b: Uint8Array): void {
  const end = b.byteLength;
  if (end === 0) fail('body is empty');
  const dv = new DataView(b.buffer, b.byteOffset, end);
  const left = new Float64Array(MAX_MSGPACK_DEPTH + 1); // items left in each open container
  const isMap = new Uint8Array(MAX_MSGPACK_DEPTH + 1);
  let depth = 0; // open containers
  let pos = 0;
  let items = 0;
  const need = (n: number) => {
    if (pos + n > end) fail('msgpack data ends early');
  };
  /** Reads a big-endian length of `w` bytes (1, 2 or 4). */
  const length = (w: number): number => {
    need(w);
    const n = w === 1 ? b[pos]! : w === 2 ? dv.getUint16(pos) : dv.getUint32(pos);
    pos += w;
    return n;
  };
  const skip = (n: number) => {
    need(n);
    pos += n;
  };
  do {
    if (++items > MAX_MSGPACK_ITEMS) fail(`more than ${MAX_MSGPACK_ITEMS} msgpack values`);
    // In a map, the item at an even count of items left is a key.
    const wantKey = depth > 0 && isMap[depth] === 1 && left[depth]! % 2 === 0;
    need(1);
    const t = b[pos++]!;
    let children = -1; // items of a new container, or -1 for a scalar
    let str = false;
    if (t <= 0x7f || t >= 0xe0) {
      // fixint
    } else if (t <= 0x8f) children = (t & 0x0f) * 2;
    else if (t <= 0x9f) children = t & 0x0f;
    else if (t <= 0xbf) {
      str = true;
      skip(t & 0x1f);
    } else if (t in FIXED) skip(FIXED[t]!);
    else if (t >= 0xc4 && t <= 0xc6) skip(length(1 << (t - 0xc4)));
    else if (t >= 0xd9 && t <= 0xdb) {
      str = true;
      skip(length(1 << (t - 0xd9)));
    } else if (t >= 0xdc && t <= 0xdf) {
      const n = length(t === 0xdc || t === 0xde ? 2 : 4);
      children = t >= 0xde ? n * 2 : n;
    } else if ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) {
      fail(
        `msgpack extension types are not accepted (type byte 0x${t.toString(16)}); ` +
          'send plain maps and arrays (msgpackr: useRecords: false)',
      );
    } else fail(`byte 0x${t.toString(16)} at offset ${pos - 1} is not valid msgpack`);

    if (wantKey && !str) fail('msgpack map keys must be strings');
    if (depth > 0) left[depth]!--;
    if (children > 0) {
      // Every item takes at least one byte: a count beyond the bytes left is a lie, refused before any walk.
      if (children > end - pos) fail('msgpack data ends early');
      if (depth === MAX_MSGPACK_DEPTH) fail(`msgpack nesting deeper than ${MAX_MSGPACK_DEPTH} levels`);
      depth++;
      left[depth] = children;
      isMap[depth] = t <= 0x8f || t >= 0xde ? 1 : 0;
    }
    while (depth > 0 && left[depth] === 0) depth--;
  } while (depth > 0);
  if (pos !== end) fail(`${end - pos} trailing bytes after the msgpack value`);
}
