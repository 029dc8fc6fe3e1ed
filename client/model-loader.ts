// Downloads a model's manifest and ONNX files, validates the manifest against the core contract, verifies every
// file's SHA-256 before it is used, and caches files by hash. Concurrent requests for one file share one download.

import type { ModelManifest } from '../core/manifest.js';
import { parseManifest } from './checks/manifest.js';
import { ModelLoadError } from './errors.js';
import type { ModelFileCache } from './model-cache.js';
import type { ModelSource } from './model-source.js';
import { sha256Hex } from '../core/sha256.js';

/** A file entry of the manifest (blocks, exits and the source model all carry these three fields). */
export interface ModelFileRef {
  file: string;
  sha256: string;
  bytes: number;
}

export interface ModelLoaderOptions {
  /** Expected model id; a manifest with another id is rejected. */
  modelId: string;
  source: ModelSource;
  fetch: typeof fetch;
  cache: ModelFileCache;
  /** Extra headers for every download (e.g. an API key). */
  headers?: Record<string, string>;
  /** Per-download timeout, ms (default 60 000). */
  timeoutMs?: number;
}

export class ModelLoader {
  private manifestPromise: Promise<ModelManifest> | undefined;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  /** Files fetched over the network (not served by the cache), for tests and stats. */
  downloads = 0;

  constructor(private readonly options: ModelLoaderOptions) {}

  /** The validated manifest; fetched once, retried on the next call if it failed. */
  manifest(): Promise<ModelManifest> {
    this.manifestPromise ??= this.fetchManifest().catch((e: unknown) => {
      this.manifestPromise = undefined;
      throw e;
    });
    return this.manifestPromise;
  }

  /** Verified bytes of one model file, from the cache or the network. */
  file(ref: ModelFileRef): Promise<Uint8Array> {
    let p = this.inflight.get(ref.sha256);
    if (!p) {
      p = this.loadFile(ref).finally(() => this.inflight.delete(ref.sha256));
      this.inflight.set(ref.sha256, p);
    }
    return p;
  }

  private async get(url: string, what: string): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 60_000);
    try {
      const res = await this.options.fetch(url, { headers: this.options.headers, signal: controller.signal });
      if (!res.ok) throw new ModelLoadError(`GET ${url} (${what}) answered HTTP ${res.status}`);
      return res;
    } catch (e) {
      if (e instanceof ModelLoadError) throw e;
      throw new ModelLoadError(`GET ${url} (${what}) failed: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchManifest(): Promise<ModelManifest> {
    const url = this.options.source.manifestUrl;
    const res = await this.get(url, 'model manifest');
    let json: unknown;
    try {
      json = await res.json();
    } catch (e) {
      throw new ModelLoadError(`model manifest at ${url} is not JSON`, { cause: e });
    }
    let manifest: ModelManifest;
    try {
      manifest = parseManifest(json);
    } catch (e) {
      throw new ModelLoadError(`model manifest at ${url} is invalid: ${(e as Error).message}`, { cause: e });
    }
    if (manifest.id !== this.options.modelId) {
      throw new ModelLoadError(
        `manifest at ${url} is for model ${manifest.id}, expected ${this.options.modelId}`,
      );
    }
    return manifest;
  }

  private async loadFile(ref: ModelFileRef): Promise<Uint8Array> {
    const cached = await this.options.cache.get(ref.sha256).catch(() => undefined);
    if (cached && (await sha256Hex(cached)) === ref.sha256) return cached;

    const url = this.options.source.fileUrl(ref.file);
    const res = await this.get(url, ref.file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new ModelLoadError(`reading ${url} failed: ${(e as Error).message}`, { cause: e });
    }
    this.downloads++;
    const hash = await sha256Hex(bytes);
    if (hash !== ref.sha256) {
      throw new ModelLoadError(
        `${ref.file} from ${url} has sha256 ${hash} (${bytes.byteLength} bytes), manifest says ${ref.sha256} (${ref.bytes} bytes)`,
      );
    }
    await this.options.cache.put(ref.sha256, bytes).catch(() => undefined);
    return bytes;
  }
}
