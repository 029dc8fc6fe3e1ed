// A minimal workerd module for `npm run bench:validate`: decodes, checks (checkOffload) and re-encodes the offload it is sent
// `x-iterations` times, exactly as the edge's POST /v1/infer does, then answers. workerd freezes its clocks during
// compute, so the cost is measured from outside, as the difference between round trips with and without the work.

import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { checkOffload } from '../../core/offload-validation.js';
import { decodeOffload, encodeMessage } from '../../core/wire.js';

let manifest: ModelManifest | undefined;

export default {
  async fetch(req: Request): Promise<Response> {
    if (req.method === 'PUT') {
      manifest = parseManifest(await req.json());
      return new Response('ok');
    }
    const body = new Uint8Array(await req.arrayBuffer());
    const n = Number(req.headers.get('x-iterations') ?? 0);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const offload = decodeOffload(body);
      checkOffload(manifest!, offload);
      bytes += encodeMessage(offload).byteLength;
    }
    return new Response(String(bytes));
  },
};
