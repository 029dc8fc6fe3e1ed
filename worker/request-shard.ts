// Which RequestState object holds a request id's record: one long-lived object per shard of ids, named
// `shard-<n>` with n = FNV-1a(id) mod REQUEST_SHARDS, instead of one object per id. An object per id meant creating
// and starting an object (and opening its SQLite database) on every offload's path; a shard's object is warm after
// its first request and stays so while traffic flows. Why shards and what N means: worker/README.md, "Shards".
// Pure (no Workers APIs), so tests can find the shard of an id; request-state.ts resolves the object.

/** REQUEST_SHARDS' default: objects the request records are spread over (worker/README.md, "Shards"). */
export const DEFAULT_REQUEST_SHARDS = 16;
/** The most shards REQUEST_SHARDS may name (a larger value is refused as a configuration mistake). */
export const MAX_REQUEST_SHARDS = 4096;

/** FNV-1a (32 bit) of the id's UTF-16 code units: stable across isolates, deploys and runtimes. */
export function shardOf(requestId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/** The name of shard `n`'s object in the REQUEST_STATE namespace. */
export function shardName(n: number): string {
  return `shard-${n}`;
}
