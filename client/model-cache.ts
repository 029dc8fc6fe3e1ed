// Where verified model files are kept between loads, keyed by their SHA-256 (so a new model version never reads a
// stale file, and two models sharing a block share its bytes). The interface is small so a browser can plug in
// CacheStorage (see cache-storage-cache.ts), IndexedDB or anything else; the in-memory store is the default.

/** A content-addressed store of model file bytes. Implementations may drop entries at any time. */
export interface ModelFileCache {
  /** The bytes stored under this hex SHA-256, or undefined. The loader re-verifies the hash of what it gets. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  /** Stores bytes whose hash the loader has verified. Failures should be swallowed (a cache is optional). */
  put(sha256: string, bytes: Uint8Array): Promise<void>;
}

/** Keeps files in a Map for the life of the object; share one instance between clients to share downloads. */
export class MemoryModelCache implements ModelFileCache {
  private readonly files = new Map<string, Uint8Array>();

  async get(sha256: string): Promise<Uint8Array | undefined> {
    return this.files.get(sha256);
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    this.files.set(sha256, bytes);
  }

  /** Number of files held. */
  get size(): number {
    return this.files.size;
  }

  clear(): void {
    this.files.clear();
  }
}
