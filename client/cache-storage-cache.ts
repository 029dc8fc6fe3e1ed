// A ModelFileCache over the browser's CacheStorage (`caches`), so model files survive page reloads. Entries are
// keyed by hash under a synthetic URL; nothing is ever fetched from that URL. Every failure is swallowed: a broken
// or full cache only means the file is downloaded again.

import type { ModelFileCache } from './model-cache.js';

export interface CacheStorageModelCacheOptions {
  /** Name of the Cache to open (default 'spinn-model-files-v1'). */
  cacheName?: string;
  /** The CacheStorage to use (default `globalThis.caches`). */
  caches?: CacheStorage;
}

const KEY_PREFIX = 'https://spinn.invalid/sha256/';

export class CacheStorageModelCache implements ModelFileCache {
  private readonly cacheName: string;
  private readonly storage: CacheStorage | undefined;

  constructor(options: CacheStorageModelCacheOptions = {}) {
    this.cacheName = options.cacheName ?? 'spinn-model-files-v1';
    this.storage = options.caches ?? (globalThis as { caches?: CacheStorage }).caches;
  }

  /** Whether CacheStorage exists here (secure browser contexts, service workers). */
  get available(): boolean {
    return this.storage !== undefined;
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      const cache = await this.storage?.open(this.cacheName);
      const res = await cache?.match(KEY_PREFIX + sha256);
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    } catch {
      return undefined;
    }
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    try {
      const cache = await this.storage?.open(this.cacheName);
      await cache?.put(
        KEY_PREFIX + sha256,
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: { 'content-type': 'application/octet-stream' },
        }),
      );
    } catch {
      // optional cache: ignore quota and availability errors
    }
  }
}
