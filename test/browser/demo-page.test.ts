// The client in a real browser: Debian's Chromium (playwright-core) opens the demo page served by the real edge
// worker (wrangler dev, local workerd), which forwards offloads to the real backend (onnxruntime-node). The page
// loads the library bundle and onnxruntime-web (wasm in its proxy Web Worker), classifies committed sample images
// under several presets — decided on the device, by the server, and by the device when the edge is cut off — and
// every label is checked against the ground truth (images picked where the unsplit model is right under the same
// threshold). Per-request latency and bytes are printed and written to test-artifacts/, with two screenshots.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../harness/stack.js';
import { loadFmnistTest } from '../client/support/fmnist.js';
import { expectedAnswer, readManifest, referenceLogits } from '../client/support/reference.js';
import { REPO_ROOT } from '../support/start-worker.js';
import { launchChromium, type LaunchedBrowser } from './support/chromium.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const GALLERY = 24;

interface Row {
  n: number;
  source: string;
  sample: number;
  split: number;
  threshold: number;
  planSource: string;
  preset: string;
  deviceFactor: number;
  bandwidthBps: number;
  decidedBy: string;
  label: number;
  truth: number;
  exit: number;
  totalMs: number;
  bytesSent: number;
  deviceMs: number;
  roundTripMs: number | null;
  serverMs: number | null;
  cancelled: boolean;
}

let stack: Stack;
let browser: LaunchedBrowser;
let page: Page;
const pageErrors: string[] = [];
const manifest = readManifest();
const samples = loadFmnistTest(GALLERY);
let logits: Float32Array[][];

/** Gallery samples the unsplit model labels correctly at every threshold given (so the browser must too). */
function correctAt(...thresholds: number[]): number[] {
  return samples
    .filter((s, i) => thresholds.every((t) => expectedAnswer(logits[i]!, t, manifest).label === s.label))
    .map((s) => s.index);
}

async function configure(
  preset: string,
  deviceFactor: number,
  bandwidthBps = 0,
  scheduler = false,
): Promise<void> {
  await page.setChecked('#use-scheduler', scheduler);
  await page.selectOption('#preset', preset);
  await page.selectOption('#device-speed', String(deviceFactor));
  await page.selectOption('#bandwidth', String(bandwidthBps));
}

/** Classifies gallery sample `i` (keyboard or mouse) and returns the new request's record. */
async function classify(i: number, how: 'click' | 'keyboard' = 'click'): Promise<Row> {
  const before = await page.evaluate(() => window.spinnDemo.records.length);
  const button = page.locator(`[data-sample="${i}"]`);
  if (how === 'keyboard') {
    await button.focus();
    await page.keyboard.press('Enter');
  } else {
    await button.click();
  }
  await page.waitForFunction(
    (n) => window.spinnDemo.records.length > n && window.spinnDemo.records[n]!.end !== undefined,
    before,
    { timeout: 60_000 },
  );
  return page.evaluate((n) => {
    const r = window.spinnDemo.records[n]!;
    if (!r.result) throw new Error(`request ${r.n} failed in the page: ${r.error}`);
    const t = r.result.timings;
    return {
      n: r.n,
      source: r.source,
      sample: Number(/#(\d+)/.exec(r.source)![1]),
      split: r.plan.split,
      threshold: r.plan.threshold,
      planSource: r.plan.source,
      preset: r.presetLabel,
      deviceFactor: r.deviceFactor,
      bandwidthBps: r.bandwidthBps,
      decidedBy: r.result.decidedBy,
      label: r.result.label,
      truth: r.truth!,
      exit: r.result.exit,
      totalMs: t.totalMs,
      bytesSent: r.result.bytesSent,
      deviceMs: t.deviceMs + t.localAfterSplitMs,
      roundTripMs: t.roundTripMs,
      serverMs: t.serverMs,
      cancelled: r.result.cancelledServer,
    };
  }, before);
}

describe('demo page in Chromium against the real worker and backend', () => {
  const rows: Row[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [stack, logits] = await Promise.all([startStack(), referenceLogits(manifest, samples)]);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('loads the library bundle, onnxruntime-web in its proxy worker, the model and the sample', async () => {
    const started = performance.now();
    // The key rides in the fragment (never sent to a server); the page keeps it for the session.
    await page.goto(`${stack.edge.url}/#key=${stack.apiKey}`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, {
      timeout: 120_000,
    });
    expect(await page.locator('#error-text').textContent()).toBe('');
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    console.log(`page ready (model loaded and warmed up) in ${(performance.now() - started).toFixed(0)} ms`);
    // wasmProxy: onnxruntime-web started its Web Worker from the served module.
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toContain('/lib/ort/ort.wasm.min.mjs');
    expect(await page.locator('#gallery button').count()).toBe(GALLERY);
    await expect.poll(() => page.getAttribute('#edge-badge', 'data-edge')).toBe('online');
    // The edge accepted the key, and the key left the address bar.
    expect(await page.locator('#runtime').textContent()).toMatch(/edge: API key accepted/);
    expect(await page.evaluate(() => location.hash)).toBe('');
  });

  it('decides on the device: device-only preset and early exits before the split', async () => {
    await configure('on-device', 1);
    const picks = correctAt(0.9).slice(0, 3);
    rows.push(await classify(picks[0]!, 'keyboard'));
    for (const i of picks.slice(1)) rows.push(await classify(i));
    await configure('low-latency', 1);
    for (const i of correctAt(0.9).slice(3, 7)) rows.push(await classify(i));
    const device = rows.filter((r) => r.decidedBy === 'device');
    expect(device.length).toBeGreaterThanOrEqual(3);
    expect(device.every((r) => r.bytesSent === 0)).toBe(true);
  });

  it('decides on the server when the device is (emulated) slower than the round trip', async () => {
    await configure('max-accuracy', 8, 50e6);
    for (const i of correctAt(1).slice(0, 4)) rows.push(await classify(i));
    const server = rows.filter((r) => r.decidedBy === 'server');
    expect(server.length).toBeGreaterThanOrEqual(1);
    for (const r of server) {
      // The 1×1×32×32 input went over the wire: compressed by the codec the plan chose, or as raw fp32 (4096 B plus
      // the message) when the edge's plan judged compression not worth its time on this fast link.
      expect(r.bytesSent).toBeGreaterThan(100);
      expect(r.bytesSent).toBeLessThan(4096 + 1024);
      expect(r.serverMs).not.toBeNull();
    }
  });

  it('finishes on the device when the edge is unreachable, and says the edge is offline', async () => {
    await page.route('**/v1/infer', (r) => r.abort('connectionrefused'));
    await page.route('**/healthz', (r) => r.abort('connectionrefused'));
    await configure('max-accuracy', 1);
    const r = await classify(correctAt(1)[4]!);
    rows.push(r);
    // The device answers, never the server: after the refused offload (device-fallback), or first, when its hedge
    // started before the browser delivered the refusal (playwright's route handler answers through the test process;
    // once, on a loaded machine, the device had finished by then: device-race). Which one is a race this test cannot
    // decide; the label is checked against the ground truth in the last test.
    expect(r.decidedBy).toMatch(/^device/);
    // A device that won the race never saw the offload fail, so the badge learns it from a health check: ask for
    // one now rather than wait for the page's periodic check.
    await page.evaluate(() => window.spinnDemo.checkEdge());
    await expect.poll(() => page.getAttribute('#edge-badge', 'data-edge')).toBe('offline');
    await page.unroute('**/v1/infer');
    await page.unroute('**/healthz');
    await page.evaluate(() => window.spinnDemo.checkEdge());
    await expect.poll(() => page.getAttribute('#edge-badge', 'data-edge')).toBe('online');
  });

  it("uses the edge scheduler's plan when the edge has one (POST /v1/plan), else the preset's", async () => {
    const res = await fetch(`${stack.edge.url}/v1/plan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.edgeHeaders },
      body: JSON.stringify({ modelId: manifest.id }),
    });
    await res.arrayBuffer();
    await configure('max-accuracy', 8, 0, true);
    // An image the model gets right at every threshold of the profile grid, whatever the scheduler picks.
    const grid = manifest.profile!.thresholds.map((t) => t.threshold);
    const r = await classify(correctAt(...grid)[0]!);
    rows.push(r);
    expect(r.planSource).toBe(res.ok ? 'edge' : 'preset');
    console.log(
      `POST /v1/plan answered ${res.status}; plan ${r.split}/${r.threshold} from the ${r.planSource}`,
    );
  });

  it('labels every image as the ground truth says, and leaves screenshots and numbers behind', async () => {
    await configure('max-accuracy', 8);
    rows.push(await classify(correctAt(1)[5]!));
    for (const r of rows) {
      // Same answer as the unsplit model under the plan's threshold, and that answer is the ground truth.
      const expected = expectedAnswer(logits[r.sample]!, r.threshold, manifest).label;
      expect({ n: r.n, label: r.label }).toEqual({ n: r.n, label: expected });
      expect({ n: r.n, label: r.label }).toEqual({ n: r.n, label: r.truth });
    }
    expect(pageErrors).toEqual([]);

    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo-phone.png'), fullPage: true });
    writeFileSync(join(ARTIFACTS, 'browser-demo.json'), JSON.stringify(rows, null, 2));
    console.table(
      rows.map((r) => ({
        '#': r.n,
        input: r.source,
        plan: `${r.preset} ${r.split}/${r.threshold}${r.deviceFactor > 1 ? ` ×${r.deviceFactor}` : ''}${r.planSource === 'edge' ? ' (edge)' : ''}`,
        decided: r.decidedBy + (r.cancelled ? ' ✂' : ''),
        exit: r.exit,
        ok: r.label === r.truth,
        'latency ms': Number(r.totalMs.toFixed(1)),
        'device ms': Number(r.deviceMs.toFixed(1)),
        'round trip ms': r.roundTripMs === null ? '-' : Number(r.roundTripMs.toFixed(1)),
        'server ms': r.serverMs === null ? '-' : Number(r.serverMs.toFixed(1)),
        'bytes sent': r.bytesSent,
      })),
    );
  });
});
