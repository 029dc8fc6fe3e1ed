// Starts one of bench:hop's pass-through workers under `wrangler dev` against a backend: the plain one (index.ts),
// the same behind an [assets] router (wrangler.assets.toml), or the same reading the offload and the answer whole
// (wrangler.buffered.toml, for the phase split of bench/hop/phases.ts).

import { startEdge, type EdgeService, type Stack } from '../../harness/stack.js';

export type PassThroughKind = 'plain' | 'assets' | 'buffered';

const CONFIGS: Record<PassThroughKind, string> = {
  plain: 'bench/pass-through/wrangler.toml',
  assets: 'bench/pass-through/wrangler.assets.toml',
  buffered: 'bench/pass-through/wrangler.buffered.toml',
};

export function startPassThrough(
  stack: { backend: Pick<Stack['backend'], 'url'>; token: string },
  kind: PassThroughKind,
): Promise<EdgeService> {
  return startEdge({ backendUrl: stack.backend.url, token: stack.token, apiKeys: 0, config: CONFIGS[kind] });
}
