// The Node entry of the published package (`@spinn-ts/client` under the "node" export condition): the same API as
// the browser entry (client/index.ts), with Node's defaults, plus the helper that loads onnxruntime-web's Node build
// with its wasm files from node_modules and a chosen thread count.

import type { SpinnClientOptions } from '../client-options.js';
import { SpinnClient as PortableSpinnClient } from '../spinn-client.js';
import { nodeDeflate } from './node-deflate.js';
import { nodeFetch } from './node-fetch.js';

export * from '../index.js';
export { loadOrtWebForNode, ortWebDistUrl, type NodeOrtOptions } from './ort-node.js';
export { nodeFetch } from './node-fetch.js';
export { nodeDeflate } from './node-deflate.js';

/**
 * The client, with Node's defaults unless the options name others: `fetch` is `nodeFetch` (node:http with
 * keep-alive, less CPU per offload than Node's global fetch; client/node/node-fetch.ts) and `deflate` is
 * `nodeDeflate` (node:zlib, about a quarter of fflate's time per offload; client/node/node-deflate.ts).
 */
export class SpinnClient extends PortableSpinnClient {
  constructor(options: SpinnClientOptions) {
    super({ ...options, fetch: options.fetch ?? nodeFetch, deflate: options.deflate ?? nodeDeflate });
  }
}
