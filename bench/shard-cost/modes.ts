// The loops of `npm run bench:shard`, shared by the worker (index.ts) and the runner (run.ts), which cannot import
// the worker (it imports `cloudflare:workers`).

export const MODES = ['rpc-floor', 'write-floor', 'claim', 'offload'] as const;
export type Mode = (typeof MODES)[number];
