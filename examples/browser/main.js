// The example page's script: decodes an image with the browser's own decoder (createImageBitmap + canvas), hands
// its RGBA pixels to SpinnClient, and shows the answer as JSON (#result). Settings come from the form, prefilled
// from the page's query string (?edge=…&key=…&split=…&threshold=…).

import { SpinnClient } from '@spinn-ts/client';

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
for (const id of ['edge', 'key', 'split']) $(id).value = query.get(id) ?? '';

let client;
let clientFor = '';

/** One client per edge and key; load() fetches the manifest and the model files from the edge and warms up. */
async function getClient() {
  const edgeUrl = $('edge').value.trim();
  const apiKey = $('key').value.trim();
  if (!client || clientFor !== `${edgeUrl} ${apiKey}`) {
    client = new SpinnClient({
      edgeUrl,
      apiKey,
      modelId: query.get('model') ?? 'resnet56-fmnist',
      wasmNumThreads: 1,
    });
    clientFor = `${edgeUrl} ${apiKey}`;
    await client.load('all');
  }
  return client;
}

async function pixels(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { data, width: bitmap.width, height: bitmap.height, channels: 4 };
}

async function classify(blob) {
  $('result').textContent = 'classifying…';
  try {
    const c = await getClient();
    const split = $('split').value.trim();
    const plan = split
      ? { plan: { split: Number(split), threshold: Number(query.get('threshold') ?? 0.9) } }
      : {};
    const r = await c.classify(await pixels(blob), plan);
    $('result').textContent = JSON.stringify(
      {
        label: r.label,
        className: r.className,
        confidence: r.confidence,
        decidedBy: r.decidedBy,
        split: r.plan.split,
        bytesSent: r.bytesSent,
        requestId: r.requestId,
        totalMs: r.timings.totalMs,
      },
      null,
      2,
    );
  } catch (e) {
    $('result').textContent = `error: ${e.message}`;
  }
}

$('classify-sample').addEventListener('click', async () =>
  classify(await (await fetch('./ankle-boot.png')).blob()),
);
$('file').addEventListener('change', () => $('file').files[0] && classify($('file').files[0]));
