// Device model 'nn': an OrtModule whose sessions run in a worker thread (ort-thread-worker.ts), so the runner can
// throttle the neural-network compute alone — the thread's id goes into the CPU-quota group (cgroup v1 `tasks`) —
// while the client's JavaScript, HTTP and sockets run at full speed on the main thread, as on a phone whose NN
// engine is slow and whose network stack runs elsewhere. Tensors cross the thread boundary as copies (≤ 64 KiB per
// block for these models).

import { Worker } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { OrtModule } from '../../client/index.js';

interface PlainTensor {
  data: Float32Array;
  dims: number[];
}

export type ToOrtThread =
  | { op: 'create'; id: number; model: Uint8Array; options?: InferenceSession.SessionOptions }
  | { op: 'run'; id: number; sessionId: number; feeds: Record<string, PlainTensor> }
  | { op: 'release'; id: number; sessionId: number };

/** A message without its id (a distributive Omit, so each variant keeps its own fields). */
type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

type FromOrtThread =
  | { op: 'tid'; tid: number }
  | { id: number; error: string }
  | { id: number; sessionId: number; inputNames: string[]; outputNames: string[] }
  | { id: number; outputs: Record<string, PlainTensor> }
  | { id: number };

/** A float32 tensor as the executor reads it (data and dims); what this runtime's sessions take and return. */
class ThreadTensor {
  constructor(
    readonly type: 'float32',
    readonly data: Float32Array,
    readonly dims: readonly number[],
  ) {}
  get size(): number {
    return this.data.length;
  }
}

export interface ThreadOrt {
  ort: OrtModule;
  /** The OS thread id of the inference thread. */
  tid: number;
  close(): Promise<void>;
}

export async function startThreadOrt(): Promise<ThreadOrt> {
  const worker = new Worker(new URL('./ort-thread-boot.mjs', import.meta.url));
  const waiting = new Map<number, { resolve(m: FromOrtThread): void; reject(e: Error): void }>();
  let nextId = 0;
  const tid = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromOrtThread) => {
      if ('op' in m) return resolve(m.tid);
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if ('error' in m) w?.reject(new Error(`inference thread: ${m.error}`));
      else w?.resolve(m);
    });
  });
  worker.on('error', (e) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  const call = <T extends FromOrtThread>(m: Unsent<ToOrtThread>): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (m: FromOrtThread) => void, reject });
      worker.postMessage({ ...m, id });
    });
  };
  const session = (sessionId: number, inputNames: string[], outputNames: string[]) =>
    ({
      inputNames,
      outputNames,
      async run(feeds: Record<string, Tensor>) {
        const plain = Object.fromEntries(
          Object.entries(feeds).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]),
        );
        const r = await call<{ id: number; outputs: Record<string, PlainTensor> }>({
          op: 'run',
          sessionId,
          feeds: plain,
        });
        return Object.fromEntries(
          Object.entries(r.outputs).map(([k, t]) => [k, new ThreadTensor('float32', t.data, t.dims)]),
        );
      },
      async release() {
        await call({ op: 'release', sessionId });
      },
    }) as unknown as InferenceSession;
  const ort: OrtModule = {
    Tensor: ThreadTensor as unknown as OrtModule['Tensor'],
    env: { wasm: {} },
    InferenceSession: {
      async create(model, options) {
        const r = await call<{ id: number; sessionId: number; inputNames: string[]; outputNames: string[] }>({
          op: 'create',
          model,
          ...(options ? { options } : {}),
        });
        return session(r.sessionId, r.inputNames, r.outputNames);
      },
    },
  };
  return { ort, tid, close: () => worker.terminate().then(() => undefined) };
}
