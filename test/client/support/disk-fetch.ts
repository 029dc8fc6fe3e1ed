// A fetch that serves the edge's model routes (`/v1/models/:id/manifest`, `/v1/models/:id/files/<file>`) from
// models/ on disk and records — and fails — every other request, to prove a code path uses no network.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_DIR } from './reference.js';

export interface DiskFetch {
  fetch: typeof fetch;
  /** URLs of every non-model request (each was answered with a thrown TypeError). */
  refused: string[];
  /** When true, model routes fail too (after preloading: proves classify makes no request at all). */
  offline: boolean;
}

export function diskFetch(): DiskFetch {
  const state: DiskFetch = {
    refused: [],
    offline: false,
    fetch: async (input) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const m = /^\/v1\/models\/[^/]+\/(manifest|files\/(.+))$/.exec(url.pathname);
      if (!m || state.offline) {
        state.refused.push(url.href);
        throw new TypeError(`fetch failed: network disabled in this test (${url.href})`);
      }
      const path = m[1] === 'manifest' ? 'manifest.json' : decodeURIComponent(m[2]!);
      return new Response(await readFile(join(MODEL_DIR, path)));
    },
  };
  return state;
}
