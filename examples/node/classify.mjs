// Classifies one PNG image with the packed SPINN client (`@spinn-ts/client`) from Node, either through a running
// SPINN stack (the edge decides with the device: early exits here, the rest offloaded) or on this machine alone from
// a model folder (no network at all). Prints the answer as one JSON line. See examples/README.md.
//
//   npm install ./spinn-ts-client-<version>.tgz onnxruntime-web pngjs
//   node classify.mjs image.png --edge https://spinn.example.workers.dev --key spinn_… [--split 5] [--threshold 0.9]
//   node classify.mjs image.png --model-dir ./models/resnet56-fmnist

import { readFile } from 'node:fs/promises';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { loadOrtWebForNode, SpinnClient, staticModelSource } from '@spinn-ts/client';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    edge: { type: 'string' },
    key: { type: 'string' },
    model: { type: 'string', default: 'resnet56-fmnist' },
    'model-dir': { type: 'string' },
    split: { type: 'string' },
    threshold: { type: 'string' },
  },
});
const [imagePath] = positionals;
if (!imagePath || (!values.edge && !values['model-dir'])) {
  console.error('usage: node classify.mjs <image.png> (--edge <url> --key <api key> | --model-dir <dir>)');
  process.exit(2);
}

// Any 8-bit image works: the client resizes and normalises it as the model's manifest says.
const png = PNG.sync.read(await readFile(imagePath));
const image = { data: png.data, width: png.width, height: png.height, channels: 4 };

/** On-device only: model files are read from disk, and every other request fails (so none can leave). */
const diskOnly = async (input) => {
  const url = String(input instanceof Request ? input.url : input);
  if (!url.startsWith('file:')) throw new TypeError(`no network in on-device mode (${url})`);
  return new Response(await readFile(fileURLToPath(url)));
};

const onDevice = values['model-dir'] !== undefined;
const client = new SpinnClient({
  ort: await loadOrtWebForNode({ numThreads: 1 }),
  modelId: values.model,
  ...(onDevice
    ? {
        edgeUrl: 'http://edge.invalid',
        modelSource: staticModelSource(pathToFileURL(`${values['model-dir']}/manifest.json`).href),
        fetch: diskOnly,
      }
    : { edgeUrl: values.edge, apiKey: values.key }),
});
const manifest = await client.load('all');

// On the device the whole network runs here (split = number of blocks); through the edge, the split given, or the
// edge's own plan for this client.
const plan = onDevice
  ? { split: manifest.blocks.length, threshold: Number(values.threshold ?? 0.9) }
  : values.split !== undefined
    ? { split: Number(values.split), threshold: Number(values.threshold ?? 0.9) }
    : undefined;
const r = await client.classify(image, plan ? { plan } : {});
await client.whenIdle();
console.log(
  JSON.stringify({
    label: r.label,
    className: r.className,
    confidence: Number(r.confidence.toFixed(4)),
    exit: r.exit,
    decidedBy: r.decidedBy,
    split: r.plan.split,
    bytesSent: r.bytesSent,
    requestId: r.requestId,
    totalMs: Number(r.timings.totalMs.toFixed(1)),
  }),
);
await client.dispose();
