// Background load on the backend for experiment 2: `level` closed loops, each sending a full-model offload (the
// raw input, split 0, no early exit) straight to the backend's internal API as fast as it answers, like other
// users' traffic. The backend's queue grows with the level, and the backend reports it (busy/queued) with every
// result, which load-aware schedulers see.

import { readFileSync } from 'node:fs';
import { parseManifest } from '../../core/manifest.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import { encodeMessage, PROTOCOL_VERSION, WIRE_CONTENT_TYPE } from '../../core/wire.js';

const dir = new URL('../../models/resnet56-fmnist/', import.meta.url).pathname;

export interface LoadGenerator {
  /** Requests completed so far. */
  readonly done: number;
  stop(): Promise<void>;
}

export function startLoad(backendUrl: string, token: string, level: number): LoadGenerator {
  const manifest = parseManifest(JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')));
  const shape = manifest.input.shape.map((d) => (d < 0 ? 1 : d));
  const tensor = encodeTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { scheme: 'fp32' });
  let running = true;
  let seq = 0;
  const state = { done: 0 };
  const loop = async () => {
    while (running) {
      const body = encodeMessage({
        v: PROTOCOL_VERSION,
        requestId: `load-${process.pid}-${seq++}-bg`,
        modelId: manifest.id,
        split: 0,
        threshold: 1,
        tensor,
        context: {},
      });
      try {
        const res = await fetch(`${backendUrl}/infer`, {
          method: 'POST',
          headers: { 'content-type': WIRE_CONTENT_TYPE, authorization: `Bearer ${token}` },
          body: body as Uint8Array<ArrayBuffer>,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        state.done++;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const loops = Array.from({ length: level }, loop);
  return {
    get done() {
      return state.done;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
