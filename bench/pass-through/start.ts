// Starts bench:hop's pass-through worker (index.ts here) under `wrangler dev` against a stack's backend: the plain
// one, or (`assets`) the one behind an [assets] router (wrangler.assets.toml).

import { startEdge, type EdgeService, type Stack } from '../../harness/stack.js';

export function startPassThrough(
  stack: Pick<Stack, 'backend' | 'token'>,
  assets: boolean,
): Promise<EdgeService> {
  return startEdge({
    backendUrl: stack.backend.url,
    token: stack.token,
    apiKeys: 0,
    config: assets ? 'bench/pass-through/wrangler.assets.toml' : 'bench/pass-through/wrangler.toml',
  });
}
