// bench:hop's second setting: the same three paths without wrangler's local proxy. SPINN's worker runs as the
// deploy bundle in workerd through Miniflare (test/support/start-worker.ts, as the integration tests run it), and the
// pass-through worker (bench/pass-through/index.ts, bundled here with esbuild) in a Miniflare of its own.

import { buildSync } from 'esbuild';
import { Miniflare } from 'miniflare';
import { bearer } from '../../harness/api-keys.js';
import { startWorker } from '../../test/support/start-worker.js';

const PASS_THROUGH = new URL('../pass-through/index.ts', import.meta.url).pathname;

export interface MiniflarePaths {
  edgeUrl: string;
  /** One `authorization` header per API key of the edge (a bench takes them in turn; see HopPath.rotate). */
  edgeKeys: Record<string, string>[];
  passThroughUrl: string;
  stop(): Promise<void>;
}

export async function startMiniflarePaths(backendUrl: string, token: string): Promise<MiniflarePaths> {
  const edge = await startWorker({ backendUrl, backendToken: token, apiKeys: 16 });
  const bundle = buildSync({ entryPoints: [PASS_THROUGH], bundle: true, format: 'esm', write: false });
  const passThrough = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]!.text,
    compatibilityDate: '2026-04-26',
    bindings: { BACKEND_URL: backendUrl, BACKEND_TOKEN: token },
    host: '127.0.0.1',
    port: 0,
  });
  const passThroughUrl = (await passThrough.ready).toString().replace(/\/$/, '');
  return {
    edgeUrl: edge.url,
    edgeKeys: edge.apiKeys.map((k) => bearer(k)),
    passThroughUrl,
    async stop() {
      await passThrough.dispose();
      await edge.stop();
    },
  };
}
