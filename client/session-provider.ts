// The core executor's SessionProvider on an injected onnxruntime module: each block and exit file is downloaded
// (verified, cached) and turned into an InferenceSession the first time it is needed, then reused.

import type { InferenceSession } from 'onnxruntime-common';
import type { ModelManifest } from '../core/manifest.js';
import type { SessionProvider, TensorFactory } from '../core/progressive-executor.js';
import { ModelLoadError } from './errors.js';
import type { ModelFileRef, ModelLoader } from './model-loader.js';
import type { OrtModule } from './ort-module.js';

export class OrtSessionProvider implements SessionProvider {
  private readonly blocks = new Map<number, Promise<InferenceSession>>();
  private readonly exits = new Map<number, Promise<InferenceSession>>();

  /** Float32 tensors of the injected runtime, as the executor needs them. */
  readonly createTensor: TensorFactory;

  constructor(
    private readonly manifest: ModelManifest,
    private readonly loader: ModelLoader,
    private readonly ort: OrtModule,
    /** Options for every session (execution providers, graph optimisation level). */
    private readonly sessionOptions: InferenceSession.SessionOptions,
  ) {
    // In proxy mode (ort.env.wasm.proxy, browsers) onnxruntime-web *transfers* every input's ArrayBuffer to its
    // Web Worker, detaching it here; the executor feeds one activation to an exit head and then to the next block,
    // so each tensor gets its own copy (at most 64 KiB for this model).
    this.createTensor = (values, dims) =>
      new ort.Tensor('float32', this.proxied() ? values.slice() : values, dims);
  }

  /** Whether the runtime runs sessions in a Web Worker (and so transfers buffers it is given). */
  private proxied(): boolean {
    return this.ort.env.wasm?.proxy === true && typeof document !== 'undefined';
  }

  block(index: number): Promise<InferenceSession> {
    const ref = this.manifest.blocks[index];
    if (!ref) return Promise.reject(new RangeError(`model ${this.manifest.id} has no block ${index}`));
    return this.session(this.blocks, index, ref);
  }

  exit(index: number): Promise<InferenceSession> {
    const ref = this.manifest.exits[index];
    if (!ref) return Promise.reject(new RangeError(`model ${this.manifest.id} has no exit ${index}`));
    return this.session(this.exits, index, ref);
  }

  /** Creates the sessions of blocks [from, to) and of the exits hanging after them. */
  async preload(from = 0, to = this.manifest.blocks.length): Promise<void> {
    const jobs: Promise<unknown>[] = [];
    for (let b = from; b < to; b++) jobs.push(this.block(b));
    for (const e of this.manifest.exits)
      if (e.afterBlock >= from && e.afterBlock < to) jobs.push(this.exit(e.index));
    await Promise.all(jobs);
  }

  /** Releases every session created so far; later calls create them again. */
  async release(): Promise<void> {
    const all = [...this.blocks.values(), ...this.exits.values()];
    this.blocks.clear();
    this.exits.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release()).catch(() => undefined)));
  }

  private session(
    memo: Map<number, Promise<InferenceSession>>,
    index: number,
    ref: ModelFileRef,
  ): Promise<InferenceSession> {
    let p = memo.get(index);
    if (!p) {
      p = this.create(ref).catch((e: unknown) => {
        memo.delete(index); // let a later call retry
        throw e;
      });
      memo.set(index, p);
    }
    return p;
  }

  private async create(ref: ModelFileRef): Promise<InferenceSession> {
    const bytes = await this.loader.file(ref);
    try {
      // Proxy mode transfers the model bytes too; keep the cached copy intact.
      return await this.ort.InferenceSession.create(
        this.proxied() ? bytes.slice() : bytes,
        this.sessionOptions,
      );
    } catch (e) {
      throw new ModelLoadError(`onnxruntime could not load ${ref.file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
}

/**
 * Wraps a provider so every block first yields to the event loop (lets a network answer in during compute) — or
 * only the blocks that start while `when()` holds, since each turn costs CPU a throttled device does not have.
 */
export function yieldingSessions(
  inner: SessionProvider,
  yieldFn: () => Promise<void>,
  when: () => boolean = () => true,
): SessionProvider {
  return {
    block: async (index) => {
      if (when()) await yieldFn();
      return inner.block(index);
    },
    exit: (index) => inner.exit(index),
  };
}
