// (b) Answers that need no network: a device-only plan, and an exit that fires before the split. The client's
// fetch serves model files from disk until preloading ends, then refuses everything, so any request would show.
// Also: programmer errors (bad input, bad plan) reject with clear messages.

import { beforeAll, describe, expect, it } from 'vitest';
import { preprocessGray } from '../../core/preprocess.js';
import { SpinnClient } from '../../client/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { diskFetch, type DiskFetch } from './support/disk-fetch.js';
import { loadFmnistTest } from './support/fmnist.js';
import { expectedAnswer, MODEL_ID, readManifest, referenceLogits } from './support/reference.js';

const manifest = readManifest();
const samples = loadFmnistTest(40);
let reference: Float32Array[][];
let net: DiskFetch;
let client: SpinnClient;

beforeAll(async () => {
  reference = await referenceLogits(manifest, samples);
  net = diskFetch();
  client = new SpinnClient({
    edgeUrl: 'http://edge.invalid',
    modelId: MODEL_ID,
    fetch: net.fetch,
    ort: await loadOrtWebForNode({ numThreads: 1 }),
  });
  await client.load('all');
  net.offline = true; // from here on every request throws
});

describe('SpinnClient without network', () => {
  it('device-only plan (split = block count) answers from the final exit, no request', async () => {
    const n = manifest.blocks.length;
    const total: number[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await client.classify(samples[i]!.pixels, { plan: { split: n, threshold: 1 } });
      total.push(r.timings.totalMs);
      const want = expectedAnswer(reference[i]!, 1, manifest);
      expect(r).toMatchObject({ decidedBy: 'device', label: want.label, exit: manifest.exits.length - 1 });
      expect(r.className).toBe(manifest.classes[want.label]);
      expect(r.confidence).toBeCloseTo(want.confidence, 4);
      expect(r.bytesSent).toBe(0);
      expect(r.cancelledServer).toBe(false);
      expect(r.blocks).toEqual({ device: n, localAfterSplit: 0, server: null });
      expect(r.timings.uploadMs).toBeNull();
      expect(r.requestId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    total.sort((a, b) => a - b);
    console.log(
      `[client] SpinnClient.classify device-only (28 blocks + 7 exits, raw pixels in), n=16: ` +
        `median ${total[8]!.toFixed(1)} ms, max ${total[15]!.toFixed(1)} ms`,
    );
    expect(net.refused).toEqual([]);
  });

  it('an Edgent-style truncated plan answers at its one exit, whatever the confidence', async () => {
    const n = manifest.blocks.length;
    for (let i = 0; i < 6; i++) {
      const r = await client.classify(samples[i]!.pixels, { plan: { split: n, threshold: 0, exit: 3 } });
      const logits = reference[i]![3]!;
      expect(r).toMatchObject({ decidedBy: 'device', exit: 3, label: logits.indexOf(Math.max(...logits)) });
      expect(r.blocks.device).toBe(manifest.exits[3]!.afterBlock + 1);
    }
    await expect(
      client.classify(samples[0]!.pixels, { plan: { split: n, threshold: 1, exit: 99 } }),
    ).rejects.toThrow(/exit must be an exit index/);
    expect(net.refused).toEqual([]);
  });

  it('an exit before the split answers on the device, no request', async () => {
    const threshold = 0.9;
    const split = 12; // exits 0, 1 (after blocks 4, 8) run on the device; exit 2 hangs after block 12
    const early = samples
      .map((s, i) => ({ s, i, want: expectedAnswer(reference[i]!, threshold, manifest) }))
      .filter((x) => manifest.exits[x.want.exit]!.afterBlock < split);
    expect(early.length).toBeGreaterThan(3);
    for (const { s, want } of early) {
      const r = await client.classify(s.pixels, { plan: { split, threshold } });
      expect(r).toMatchObject({ decidedBy: 'device', label: want.label, exit: want.exit, bytesSent: 0 });
      expect(r.blocks.device).toBe(manifest.exits[want.exit]!.afterBlock + 1);
    }
    expect(net.refused).toEqual([]);
  });

  it('takes a preprocessed Float32Array like raw pixels', async () => {
    const x = preprocessGray(samples[0]!.pixels, manifest.input);
    const a = await client.classify(x, { plan: { split: 28, threshold: 1 } });
    const b = await client.classify(samples[0]!.pixels, { plan: { split: 28, threshold: 1 } });
    expect(a.label).toBe(b.label);
    expect(a.confidence).toBe(b.confidence);
  });

  it('rejects bad input and bad plans with clear messages', async () => {
    await expect(client.classify(new Uint8Array(100))).rejects.toThrow(/28x28 = 784 8-bit pixels, got 100/);
    await expect(client.classify(new Float32Array(10))).rejects.toThrow(/1024 float32 values/);
    await expect(client.classify([1, 2, 3] as unknown as Uint8Array)).rejects.toThrow(
      /raw grey pixels \(Uint8Array\), an image \{data, width, height, channels\}/,
    );
    await expect(
      client.classify({ data: new Uint8Array(5), width: 2, height: 2, channels: 1 }),
    ).rejects.toThrow(/image data holds 5 values, 2x2x1 needs 4/);
    await expect(client.classify(samples[0]!.pixels, { plan: { split: 29 } })).rejects.toThrow(
      /split must be/,
    );
    await expect(client.classify(samples[0]!.pixels, { plan: { threshold: 1.5 } })).rejects.toThrow(
      /threshold/,
    );
    // the client still works after rejected calls
    const r = await client.classify(samples[1]!.pixels, { plan: { split: 28, threshold: 1 } });
    expect(r.decidedBy).toBe('device');
    expect(net.refused).toEqual([]);
  });
});
