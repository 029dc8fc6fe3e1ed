// The demo page's entry: loads the sample and the model (SpinnClient from the served library bundle, wasm in a
// Web Worker), wires the controls, runs one classification at a time and renders the timeline, the charts, the
// plan and the request table. States on <body data-state>: loading → ready ⇄ busy, or error (with Retry).

import {
  CacheStorageModelCache,
  importOnnxruntimeWeb,
  SpinnClient,
  type ClassifyResult,
} from '../../client/index.js';
import { latencyChart, decidedChart, exitHistogram } from './charts.js';
import { describeAccess, readApiKey, withApiKey } from './api-key.js';
import { byId, fmtBytes, fmtMs, h } from './dom.js';
import { DEVICE_SPEEDS, EmulatedDevice } from './emulated-device.js';
import { EdgeHealth } from './edge-health.js';
import { BANDWIDTHS, EmulatedLink } from './emulated-link.js';
import { convertImage, type ImageTarget, type InvertMode } from './image-input.js';
import { DECIDED_LABEL, type RequestRecord } from './request-record.js';
import { loadSamples, paintGrey, paintImage, sampleImage, type SampleSet } from './samples.js';
import type { RawImage } from '../../core/preprocess.js';
import { choosePlan, planContext, presetById, SLA_PRESETS, type ChosenPlan } from './sla-presets.js';
import { renderTimeline, summary } from './timeline.js';

const GALLERY_SIZE = 24;
const params = new URL(location.href).searchParams;
const EDGE = location.origin;
const API_KEY = readApiKey();
const useProxy = params.get('proxy') !== '0';

const link = new EmulatedLink();
const device = new EmulatedDevice();
const records: RequestRecord[] = [];
let client: SpinnClient | undefined;
let modelId = params.get('model') ?? 'resnet56-fmnist';
let classes: string[] = [];
let nBlocks = 0;
let nExits = 0;
/** What an upload becomes for this model (grey at its source size, or colour at its input size). */
let uploadTarget: ImageTarget = { channels: 1, height: 28, width: 28 };
let samples: SampleSet | undefined;
let current: RequestRecord | undefined;
let batchCursor = 0;
let queue: Promise<unknown> = Promise.resolve();
let pending = 0;

const el = {
  status: byId('status'),
  error: byId('error'),
  errorText: byId('error-text'),
  retry: byId<HTMLButtonElement>('retry'),
  badge: byId('edge-badge'),
  model: byId<HTMLSelectElement>('model'),
  modelDesc: byId('model-desc'),
  preset: byId<HTMLSelectElement>('preset'),
  presetDesc: byId('preset-desc'),
  bandwidth: byId<HTMLSelectElement>('bandwidth'),
  deviceSpeed: byId<HTMLSelectElement>('device-speed'),
  useScheduler: byId<HTMLInputElement>('use-scheduler'),
  plan: byId('plan'),
  runtime: byId('runtime'),
  gallery: byId('gallery'),
  runBatch: byId<HTMLButtonElement>('run-batch'),
  drop: byId('drop'),
  file: byId<HTMLInputElement>('file'),
  invert: byId<HTMLSelectElement>('invert'),
  preview: byId<HTMLCanvasElement>('preview'),
  previewCaption: byId('preview-caption'),
  latest: byId('latest'),
  timeline: byId('timeline'),
  chartLatency: byId('chart-latency'),
  chartDecided: byId('chart-decided'),
  chartExits: byId('chart-exits'),
  history: byId<HTMLTableElement>('history'),
};

function setState(state: 'loading' | 'ready' | 'busy' | 'error'): void {
  document.body.dataset.state = state;
}

function showError(message: string, retry?: () => void): void {
  el.errorText.textContent = message;
  el.error.hidden = false;
  el.retry.hidden = !retry;
  el.retry.onclick = retry
    ? () => {
        el.error.hidden = true;
        retry();
      }
    : null;
}

function status(text: string): void {
  el.status.textContent = text;
}

// ---- controls -------------------------------------------------------------------------------------------------

for (const p of SLA_PRESETS) el.preset.append(h('option', { value: p.id }, p.label));
for (const b of BANDWIDTHS) el.bandwidth.append(h('option', { value: b.bps }, b.label));
const showPreset = () => (el.presetDesc.textContent = presetById(el.preset.value).description);
el.preset.addEventListener('change', showPreset);
showPreset();
el.bandwidth.addEventListener('change', () => (link.bandwidthBps = Number(el.bandwidth.value)));
for (const d of DEVICE_SPEEDS) el.deviceSpeed.append(h('option', { value: d.factor }, d.label));
el.deviceSpeed.addEventListener('change', () => (device.factor = Number(el.deviceSpeed.value)));

function renderPlan(plan: ChosenPlan, result?: ClassifyResult): void {
  const rows: Array<[string, string]> = [
    [
      'Split',
      plan.split >= nBlocks
        ? `${nBlocks} (device only)`
        : plan.split === 0
          ? '0 (server only)'
          : `after block ${plan.split}: device runs blocks 0–${plan.split - 1}`,
    ],
    ['Threshold', plan.threshold >= 1 ? '1 (no early exit)' : String(plan.threshold)],
    ['Chosen by', plan.source === 'edge' ? 'the edge scheduler (POST /v1/plan)' : 'the preset (fixed plan)'],
    ['Why', plan.note],
  ];
  if (plan.estimateMs !== undefined) rows.push(['Predicted latency', fmtMs(plan.estimateMs)]);
  if (result?.nextPlan)
    rows.push([
      'Edge suggests next',
      `split ${result.nextPlan.split}, threshold ${result.nextPlan.threshold}`,
    ]);
  el.plan.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// ---- rendering -------------------------------------------------------------------------------------------------

function renderCharts(): void {
  el.chartLatency.replaceChildren(latencyChart(records));
  el.chartDecided.replaceChildren(decidedChart(records));
  el.chartExits.replaceChildren(exitHistogram(records, nExits));
}

function historyRow(r: RequestRecord): HTMLTableRowElement {
  const res = r.result;
  const ok = res && r.truth !== undefined ? res.label === r.truth : undefined;
  return h(
    'tr',
    {
      'data-request': r.n,
      'data-decided': res?.decidedBy ?? 'error',
      'data-label': res?.label ?? '',
      'data-truth': r.truth ?? '',
    },
    h('td', {}, String(r.n)),
    h('td', {}, r.source),
    h(
      'td',
      {},
      res
        ? `${res.className} ${(res.confidence * 100).toFixed(0)} %${ok === false ? ' ✗' : ''}`
        : `error: ${r.error}`,
    ),
    h('td', {}, r.truth !== undefined ? (classes[r.truth] ?? String(r.truth)) : '–'),
    h('td', {}, res ? DECIDED_LABEL[res.decidedBy] + (res.cancelledServer ? ' ✂' : '') : '–'),
    h('td', {}, res ? String(res.exit) : '–'),
    h(
      'td',
      {},
      `${r.presetLabel}: ${r.plan.split}/${r.plan.threshold}` +
        (r.deviceFactor > 1 ? ` · device ×${r.deviceFactor}` : '') +
        (r.bandwidthBps ? ` · ${r.bandwidthBps / 1e6} Mbit/s` : ''),
    ),
    h('td', { 'data-ms': res?.timings.totalMs ?? '' }, fmtMs(res?.timings.totalMs)),
    h(
      'td',
      { 'data-bytes': res?.bytesSent ?? '' },
      res ? (res.bytesSent ? fmtBytes(res.bytesSent) : '0') : '–',
    ),
  );
}

function render(r: RequestRecord): void {
  el.latest.textContent = summary(r);
  el.timeline.replaceChildren(renderTimeline(r));
  el.history.tBodies[0]!.prepend(historyRow(r));
  renderCharts();
  renderPlan(r.plan, r.result);
}

// ---- classification ---------------------------------------------------------------------------------------------

function enqueue(
  pixels: Uint8Array | RawImage,
  source: string,
  truth?: number,
): Promise<RequestRecord | undefined> {
  pending++;
  setState('busy');
  const job = queue.then(() => classify(pixels, source, truth));
  queue = job.catch(() => undefined);
  return job.finally(() => {
    if (--pending === 0 && document.body.dataset.state === 'busy') setState('ready');
  });
}

async function classify(
  pixels: Uint8Array | RawImage,
  source: string,
  truth?: number,
): Promise<RequestRecord | undefined> {
  if (!client) return undefined;
  const preset = presetById(el.preset.value);
  const context = planContext({ uplinkBitsPerSecond: link.bandwidthBps, deviceFactor: device.factor });
  const chosen = await choosePlan(
    EDGE,
    modelId,
    preset,
    context,
    el.useScheduler.checked,
    withApiKey(API_KEY),
  );
  const plan = { ...chosen, split: Math.min(chosen.split, nBlocks) };
  renderPlan(plan);
  const r: RequestRecord = {
    n: records.length + 1,
    source,
    ...(truth !== undefined ? { truth } : {}),
    pixels,
    plan,
    presetLabel: preset.label,
    bandwidthBps: link.bandwidthBps,
    deviceFactor: device.factor,
    t0: 0,
    steps: [],
    link: {},
  };
  records.push(r);
  current = r;
  link.sink = r.link;
  status(`Request ${r.n}: classifying ${source}…`);
  r.t0 = performance.now();
  try {
    // The edge's codec choice (when it made one) goes through untouched; the client validates it.
    const codec = plan.codec !== undefined ? { codec: plan.codec } : {};
    type CallPlan = NonNullable<Parameters<SpinnClient['classify']>[1]>['plan'];
    const callPlan = { split: plan.split, threshold: plan.threshold, ...codec } as CallPlan;
    r.result = await client.classify(pixels, { plan: callPlan });
  } catch (e) {
    r.error = (e as Error).message;
  }
  r.end = performance.now() - r.t0;
  current = undefined;
  render(r);
  status(summary(r));
  if (r.result?.decidedBy === 'device-fallback') void health?.check();
  return r;
}

function onStep(
  st: Parameters<NonNullable<ConstructorParameters<typeof SpinnClient>[0]['onStep']>>[0],
): void {
  const r = current;
  if (!r) return;
  const end = performance.now() - r.t0;
  r.steps.push({
    phase: st.phase,
    kind: st.kind,
    index: st.index,
    start: end - st.ms,
    end,
    ...(st.kind === 'exit' ? { taken: st.taken, confidence: st.confidence } : {}),
  });
}

// ---- inputs -----------------------------------------------------------------------------------------------------

function buildGallery(set: SampleSet): void {
  el.gallery.replaceChildren();
  for (let i = 0; i < Math.min(GALLERY_SIZE, set.count); i++) {
    const canvas = h('canvas', { 'aria-hidden': 'true' });
    paintGrey(canvas, sampleImage(set, i));
    const name = classes[set.labels[i]!] ?? `class ${set.labels[i]}`;
    const button = h(
      'button',
      { type: 'button', class: 'thumb', 'data-sample': i, 'aria-label': `Classify sample ${i} (${name})` },
      canvas,
      h('span', {}, `#${i}`),
    );
    button.addEventListener('click', () => void classifySample(i));
    el.gallery.append(button);
  }
}

function classifySample(i: number): Promise<RequestRecord | undefined> {
  const set = samples!;
  const pixels = sampleImage(set, i);
  paintGrey(el.preview, pixels);
  el.previewCaption.textContent = `Sample #${i} (${classes[set.labels[i]!]})`;
  return enqueue(pixels, `sample #${i}`, set.labels[i]);
}

el.runBatch.addEventListener('click', () => {
  const set = samples;
  if (!set) return;
  for (let k = 0; k < 12; k++) void classifySample(batchCursor++ % set.count);
});

async function classifyFile(file: File): Promise<void> {
  try {
    const { image, inverted } = await convertImage(file, el.invert.value as InvertMode, uploadTarget);
    paintImage(el.preview, image);
    const t = uploadTarget;
    el.previewCaption.textContent =
      `${file.name}: ${t.height} × ${t.width} ${t.channels === 1 ? 'grey' : 'colour'}` +
      (inverted ? ', inverted' : '');
    await enqueue(image, `upload: ${file.name}`);
  } catch (e) {
    showError(`Could not read ${file.name} as an image: ${(e as Error).message}`);
  }
}

el.file.addEventListener('change', () => {
  const f = el.file.files?.[0];
  if (f) void classifyFile(f);
  el.file.value = '';
});
el.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  el.drop.classList.add('over');
});
el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
el.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  el.drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void classifyFile(f);
});

// ---- model choice ------------------------------------------------------------------------------------------------

/** Fills the model picker; choosing another model reloads the page for it (a client serves one model). */
function showModels(ids: string[]): void {
  el.model.replaceChildren(...ids.map((id) => h('option', { value: id }, id)));
  el.model.value = modelId;
}
el.model.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('model', el.model.value);
  location.assign(url);
});

// ---- start-up ----------------------------------------------------------------------------------------------------

let health: EdgeHealth | undefined;

function watchEdge(): void {
  health = new EdgeHealth(EDGE, (state, detail) => {
    el.badge.dataset.edge = state;
    el.badge.textContent =
      state === 'online' ? 'Edge: online' : `Edge: offline — requests finish on this device (${detail})`;
  });
  health.start();
}

async function init(): Promise<void> {
  setState('loading');
  try {
    status('Loading the model catalogue…');
    const cat = await fetch(`${EDGE}/v1/models`).then(async (res) => {
      if (!res.ok) throw new Error(`GET /v1/models answered HTTP ${res.status}`);
      return (await res.json()) as { models: Array<{ id: string }> };
    });
    if (!params.get('model') && cat.models[0]) modelId = cat.models[0].id;
    showModels(cat.models.map((m) => m.id));
    client ??= new SpinnClient({
      edgeUrl: EDGE,
      ...(API_KEY ? { apiKey: API_KEY } : {}),
      modelId,
      fetch: link.fetch,
      ort: device.wrap(await importOnnxruntimeWeb()),
      wasmProxy: useProxy,
      wasmNumThreads: 1,
      followEdgePlan: false,
      preload: 'none', // load('all') below, after the manifest, so the page can show progress
      cache: new CacheStorageModelCache(),
      onStep,
    });
    const manifest = await client.manifest().catch(async (e: unknown) => {
      client = undefined; // a failed load is retried with a fresh client
      throw e;
    });
    classes = manifest.classes;
    const pre = manifest.input.preprocessing;
    const colour = manifest.input.shape[1] === 3;
    const [th, tw] = (colour ? pre?.resize : undefined) ?? pre?.sourceSize ?? [28, 28];
    uploadTarget = { channels: colour ? 3 : 1, height: th, width: tw };
    el.modelDesc.textContent =
      `input ${manifest.input.shape.slice(1).join('×')} (${colour ? 'colour' : 'grey'}); ` +
      `samples are 28×28 Fashion-MNIST images, preprocessed by the client as the manifest says`;
    nBlocks = manifest.blocks.length;
    nExits = manifest.exits.length;
    const files = nBlocks + nExits;
    link.onModelFile = () => status(`Downloading model files: ${link.modelFiles} / ${files}…`);
    status(`Loading ${files} model files (or the browser's cached copies) and the sample images…`);
    const [set, , access] = await Promise.all([
      loadSamples(location.href, 1000),
      client.load('all'),
      describeAccess(EDGE, API_KEY),
    ]);
    samples = set;
    buildGallery(set);
    renderCharts();
    el.runtime.textContent =
      `onnxruntime-web (WebAssembly, 1 thread) ${useProxy ? 'in a Web Worker (wasm proxy)' : 'on the page thread'}; ` +
      `model ${modelId}: ${nBlocks} blocks, ${nExits} exits; ${link.modelFiles} files downloaded, ${files - link.modelFiles} from the browser cache; edge: ${access}.`;
    status(`Ready. Model ${modelId} loaded; pick an image.`);
    setState('ready');
  } catch (e) {
    setState('error');
    status('Not ready.');
    showError(`Could not load the demo: ${(e as Error).message}`, () => void init());
  }
}

watchEdge();
void init();

// For people poking around in DevTools and for the browser test: the records and the client.
Object.assign(window, {
  spinnDemo: {
    records,
    get client() {
      return client;
    },
    classifySample,
    checkEdge: () => health?.check(),
    proxy: useProxy,
  },
});
