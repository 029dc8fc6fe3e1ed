// The onnxruntime-node sessions of the models a backend serves: every block and exit file opened once with the
// backend's session options, on CUDA when asked and available and on CPU otherwise (saying why), and warmed up.
// The inference worker thread uses it, and so does bench:backend's in-process compute ceiling, so both run the
// very same sessions with the very same options.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../core/manifest.js';
import { runProgressiveBatch } from '../core/progressive-batch.js';
import type { SessionProvider, TensorFactory } from '../core/progressive-executor.js';
import type { ProviderChoice } from './config.js';
import { loadModelDir } from './model-store.js';
import type { ActiveProvider } from './worker-protocol.js';

export interface SessionSettings {
  provider: ProviderChoice;
  /** onnxruntime intra-op threads per session. */
  threads: number;
  spinning: boolean;
}

export interface ModelSessions {
  manifest: ModelManifest;
  sessions: SessionProvider;
}

export interface LoadedSessions {
  models: Map<string, ModelSessions>;
  provider: ActiveProvider;
  /** Why CUDA was not used when it was asked for (null when it runs, or when cpu was asked for). */
  fallbackReason: string | null;
}

export const createTensor: TensorFactory = (values, dims) => new ort.Tensor('float32', values, dims);

function baseOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Spinning intra-op threads burn their core between the many short runs of a block-by-block walk; on shared
    // or oversubscribed cores that made a 28-block request ~20x slower (see config.ts), so it is opt-in.
    extra: { session: { intra_op: { allow_spinning: s.spinning ? '1' : '0' } } },
  };
}

/**
 * Why CUDA cannot even be tried, or null. onnxruntime-node loads its CUDA provider from a library beside its native
 * binding, which the package's install script downloads only when allowed (`onnxruntime-node-install` in .npmrc);
 * checking first gives a clearer reason than the native loader's error, and keeps that error off stderr.
 */
function cudaLibraryMissing(): string | null {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (process.platform !== 'linux' || existsSync(lib)) return null;
  return `onnxruntime-node has no CUDA provider library (${lib} is missing: installed with onnxruntime-node-install=skip?)`;
}

/** Opens sessions on one provider, decided by the first session (CUDA first unless cpu was asked for). */
class SessionFactory {
  active: ActiveProvider | null = null;
  fallbackReason: string | null = null;
  constructor(private readonly settings: SessionSettings) {}

  async create(path: string): Promise<ort.InferenceSession> {
    const base = baseOptions(this.settings);
    if (this.active === null) {
      if (this.settings.provider === 'cpu') this.active = 'cpu';
      else if ((this.fallbackReason = cudaLibraryMissing())) this.active = 'cpu';
      else {
        try {
          // CPU stays listed so any op without a CUDA kernel still runs; a missing CUDA library throws here.
          const s = await ort.InferenceSession.create(path, {
            ...base,
            executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'],
          });
          this.active = 'cuda';
          return s;
        } catch (e) {
          this.active = 'cpu';
          this.fallbackReason = (e as Error).message.split('\n')[0]!.slice(0, 500);
        }
      }
    }
    return ort.InferenceSession.create(path, {
      ...base,
      executionProviders: this.active === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'],
    });
  }
}

async function loadModel(f: SessionFactory, id: string, dir: string): Promise<ModelSessions> {
  const { manifest } = loadModelDir(dir);
  if (manifest.id !== id) throw new Error(`model folder ${dir} now holds ${manifest.id}, expected ${id}`);
  const blocks: ort.InferenceSession[] = [];
  for (const b of manifest.blocks) blocks.push(await f.create(join(dir, b.file)));
  const exits: ort.InferenceSession[] = [];
  for (const e of manifest.exits) exits.push(await f.create(join(dir, e.file)));
  const sessions: SessionProvider = {
    block: async (i) => blocks[i] ?? Promise.reject(new RangeError(`no block ${i}`)),
    exit: async (i) => exits[i] ?? Promise.reject(new RangeError(`no exit ${i}`)),
  };
  return { manifest, sessions };
}

export async function loadSessions(
  models: readonly { id: string; dir: string }[],
  settings: SessionSettings,
): Promise<LoadedSessions> {
  const f = new SessionFactory(settings);
  const out = new Map<string, ModelSessions>();
  for (const m of models) out.set(m.id, await loadModel(f, m.id, m.dir));
  return { models: out, provider: f.active ?? 'cpu', fallbackReason: f.fallbackReason };
}

/**
 * Runs every model end to end at each batch size on a realistic-magnitude input, so the first real request (and
 * the first full batch: memory arenas, and on CUDA cuDNN's per-shape algorithm search) is not the slow one.
 */
export async function warmUp(
  models: Map<string, ModelSessions>,
  batchSizes: readonly number[],
): Promise<void> {
  for (const { manifest, sessions } of models.values()) {
    const shape = manifest.input.shape.map((d, i) => (i === 0 ? 1 : d));
    const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(-0.81); // normalised black pixel
    for (const n of new Set(batchSizes)) {
      await runProgressiveBatch({
        manifest,
        sessions,
        createTensor,
        items: Array.from({ length: n }, () => ({ input, inputShape: shape, fromBlock: 0, threshold: 1 })),
        toBlock: manifest.blocks.length,
      });
    }
  }
}
