// core/msgpack.ts: the structural scan accepts every plain msgpack value within its limits exactly as msgpackr
// decodes it, and refuses everything else with a MsgpackError — never another exception, never a hang.

import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  MAX_MSGPACK_DEPTH,
  MsgpackError,
  packMsgpack,
  scanMsgpack,
  unpackMsgpack,
} from '../../core/msgpack.js';

const plain = new Packr({ useRecords: false, variableMapSize: true });

/** JSON-like values with string keys and binary leaves: what our messages are made of. */
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 64 }),
    ),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 }),
  ),
})).node;

function depthOf(v: unknown): number {
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return 0;
  const kids = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...kids.map(depthOf));
}

describe('hardened msgpack', () => {
  it('decodes every plain value within the limits exactly as msgpackr encodes it', () => {
    fc.assert(
      fc.property(value, (v) => {
        fc.pre(depthOf(v) <= MAX_MSGPACK_DEPTH);
        const body = plain.pack(v);
        // Compared re-encoded: msgpackr hands bin back as a Buffer in Node, the same bytes on the wire.
        expect(Buffer.from(plain.pack(unpackMsgpack(body))).equals(Buffer.from(body))).toBe(true);
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  it('answers arbitrary bytes with a value or a MsgpackError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        try {
          unpackMsgpack(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MsgpackError);
        }
      }),
      { seed: 12, numRuns: 5000 },
    );
  });

  it('refuses truncations of valid bodies as ending early', () => {
    const body = packMsgpack({ a: [1, 2, { b: 'xyz' }], c: new Uint8Array(10) });
    for (let cut = 1; cut < body.byteLength; cut++)
      expect(() => scanMsgpack(body.subarray(0, cut))).toThrow(/ends early/);
  });

  it('holds the depth limit exactly, independent of the call stack', () => {
    const nest = (d: number) => new Uint8Array([...new Uint8Array(d).fill(0x91), 0xc0]);
    expect(() => scanMsgpack(nest(MAX_MSGPACK_DEPTH))).not.toThrow();
    expect(() => scanMsgpack(nest(MAX_MSGPACK_DEPTH + 1))).toThrow(/nesting deeper than 16/);
    expect(() => scanMsgpack(nest(1_000_000))).toThrow(/nesting deeper than 16/);
  });

  it('reads 64-bit integers as numbers, never BigInt', () => {
    const u64 = new Uint8Array([0xcf, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(unpackMsgpack(u64)).toBe(2);
    expect(typeof unpackMsgpack(new Uint8Array([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(
      'number',
    );
  });

  it('refuses every extension type, the structured-clone and record ones included', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    for (const body of [
      new Packr({ structuredClone: true }).pack(cyc),
      new Packr({ useRecords: true }).pack([{ a: 1 }, { a: 2 }]),
      new Packr({ useRecords: false }).pack(new Date(0)),
      new Uint8Array([0xc7, 0x01, 0x05, 0x00]),
    ])
      expect(() => unpackMsgpack(body)).toThrow(/extension types are not accepted/);
  });
});
