// The Node entry of the published package (`@spinn-ts/client` under the "node" export condition): the same API as
// the browser entry (client/index.ts), plus the helper that loads onnxruntime-web's Node build with its wasm files
// from node_modules and a chosen thread count.

export * from '../index.js';
export { loadOrtWebForNode, ortWebDistUrl, type NodeOrtOptions } from './ort-node.js';
