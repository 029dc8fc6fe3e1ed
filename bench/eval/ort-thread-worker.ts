// The inference thread of device model 'nn' (ort-thread.ts): onnxruntime-web with one wasm thread, running the
// sessions the main thread asks for. Its first message is its own thread id (from /proc/thread-self), which the
// runner puts alone into the device's CPU-quota group.

import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-common';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import type { ToOrtThread } from './ort-thread.js';

const port = parentPort!;
const ort = await loadOrtWebForNode({ numThreads: 1 });
const sessions = new Map<number, InferenceSession>();
let next = 0;

port.on('message', (m: ToOrtThread) => {
  void handle(m).catch((e: unknown) =>
    port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});

async function handle(m: ToOrtThread): Promise<void> {
  if (m.op === 'create') {
    const s = await ort.InferenceSession.create(m.model, m.options);
    const sessionId = next++;
    sessions.set(sessionId, s);
    port.postMessage({ id: m.id, sessionId, inputNames: s.inputNames, outputNames: s.outputNames });
  } else if (m.op === 'run') {
    const s = sessions.get(m.sessionId)!;
    const feeds = Object.fromEntries(
      Object.entries(m.feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.dims)]),
    );
    const out = await s.run(feeds);
    const outputs = Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]),
    );
    port.postMessage({ id: m.id, outputs });
  } else {
    await sessions.get(m.sessionId)?.release();
    sessions.delete(m.sessionId);
    port.postMessage({ id: m.id });
  }
}

port.postMessage({ op: 'tid', tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) });
