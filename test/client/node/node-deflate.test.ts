// client/node/node-deflate.ts: node:zlib's raw DEFLATE as the Node client's compressor. Its streams must be what the
// edge and the backend decode (raw DEFLATE, inflated by core's one decoder to the same tensor values as fflate's), a
// plain Uint8Array, and the Node entry's SpinnClient must use it unless told otherwise (its offload, as the edge
// stand-in received it, is zlib's stream of the payload, not fflate's).

import { inflateSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflate as fflateDeflate } from '../../../core/codec-deflate.js';
import { checkOffload } from '../../../core/offload-validation.js';
import { decodeTensor, encodeTensor } from '../../../core/tensor-codec.js';
import { decodeOffload, PROTOCOL_VERSION, type OffloadMessage } from '../../../core/wire.js';
import { MemoryModelCache } from '../../../client/index.js';
import { nodeDeflate, SpinnClient } from '../../../client/node/index.js';
import { loadOrtWebForNode } from '../../../client/node/ort-node.js';
import { startEdgeStub, type EdgeStub } from '../support/edge-stub.js';
import { loadFmnistTest } from '../support/fmnist.js';
import { MODEL_ID, readManifest } from '../support/reference.js';

const manifest = readManifest();

/**
 * A ReLU-like activation (about half zeros, the rest mostly small and on a coarse grid, so every codec's payload
 * compresses, as a real network's does), from a seeded generator so every run encodes the same values.
 */
function activation(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = u < 0.5 ? 0 : Math.round(((u - 0.5) * 2) ** 4 * 64) / 8; // mostly small, as after a ReLU
  }
  return out;
}

describe('nodeDeflate', () => {
  it('writes raw DEFLATE streams that inflate to their input, as plain Uint8Arrays', () => {
    const inputs = [
      new Uint8Array(0),
      new Uint8Array(5000),
      Uint8Array.from({ length: 9000 }, (_, i) => (i * 2654435761) >>> 24),
      new Uint8Array(activation([1, 16, 32, 32], 7).buffer),
    ];
    for (const raw of inputs) {
      const z = nodeDeflate(raw);
      expect(Object.getPrototypeOf(z)).toBe(Uint8Array.prototype);
      expect(inflateSync(z)).toEqual(raw);
    }
  });

  it("encodes every sparse codec to the values fflate's encoding decodes to, and the edge's check accepts it", () => {
    const shape = [1, 16, 32, 32];
    const values = activation(shape, 11);
    const specs = [
      { scheme: 'lossless' },
      { scheme: 'quant', bits: 8 },
      { scheme: 'quant', bits: 4 },
    ] as const;
    for (const spec of specs) {
      const viaZlib = encodeTensor(values, shape, spec, { deflate: nodeDeflate });
      const viaFflate = encodeTensor(values, shape, spec, { deflate: fflateDeflate });
      expect(viaZlib.codec).toMatchObject({ compression: 'deflate' });
      expect(viaZlib.data).not.toEqual(viaFflate.data); // a different encoder…
      expect(decodeTensor(viaZlib).values).toEqual(decodeTensor(viaFflate).values); // …the same tensor
      const offload: OffloadMessage = {
        v: PROTOCOL_VERSION,
        requestId: 'node-deflate-0001',
        modelId: manifest.id,
        split: 5,
        threshold: 1,
        tensor: viaZlib,
      };
      expect(() => checkOffload(manifest, offload)).not.toThrow();
    }
  });
});

describe("the Node entry's SpinnClient", () => {
  let edge: EdgeStub;
  let client: SpinnClient;
  const bodies: Uint8Array[] = [];

  beforeAll(async () => {
    const [ort, stub] = await Promise.all([loadOrtWebForNode({ numThreads: 1 }), startEdgeStub()]);
    edge = stub;
    client = new SpinnClient({
      edgeUrl: edge.url,
      modelId: MODEL_ID,
      ort,
      cache: new MemoryModelCache(),
      followEdgePlan: false,
      warmup: false,
      // Only to see the offload's bytes; the compressor is the entry's default.
      fetch: async (input, init) => {
        if (init?.method === 'POST' && String(input).endsWith('/v1/infer'))
          bodies.push(new Uint8Array(init.body as Uint8Array));
        return fetch(input, init);
      },
    });
  });
  afterAll(async () => {
    await client?.dispose();
    await edge?.close();
  });

  it('packs its offload with node:zlib by default', async () => {
    const [sample] = loadFmnistTest(1);
    const r = await client.classify(sample!.pixels, {
      plan: { split: 4, threshold: 1, codec: { scheme: 'quant', bits: 4 } },
    });
    expect(['server', 'device-race']).toContain(r.decidedBy);
    expect(bodies).toHaveLength(1);
    const { tensor } = decodeOffload(bodies[0]!);
    expect(tensor.codec).toMatchObject({ scheme: 'quant', compression: 'deflate' });
    const raw = inflateSync(tensor.data);
    expect(tensor.data).toEqual(nodeDeflate(raw)); // zlib is deterministic: its stream again, byte for byte
    expect(tensor.data).not.toEqual(fflateDeflate(raw));
  });
});
