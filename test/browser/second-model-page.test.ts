// The demo page with the second model (mobilenetv2-fmnist96: 3×96×96 colour input, exits attached by
// model:exits) in Debian's Chromium against the real worker and backend: the page opens on `?model=`, loads the
// model's 26 files into onnxruntime-web, classifies gallery samples on the device and on the server, and a colour
// PNG uploaded through the file input. Every answer must be what the single source model says under the same plan,
// for exactly the image the page classified (the page's canvas resize of an upload is the browser's; the record
// keeps its result, which is checked here).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/manifest.js';
import { greyImage, type RawImage } from '../../core/preprocess.js';
import { startStack, type Stack } from '../../harness/stack.js';
import { loadFmnistTest } from '../client/support/fmnist.js';
import { expectedAnswer, sourceModelLogits } from '../client/support/reference.js';
import { REPO_ROOT } from '../support/start-worker.js';
import { launchChromium, type LaunchedBrowser } from './support/chromium.js';

const MODEL_ID = 'mobilenetv2-fmnist96';
const DIR = join(REPO_ROOT, 'models', MODEL_ID);
const manifest = parseManifest(JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')));

let stack: Stack;
let browser: LaunchedBrowser;
let page: Page;
const pageErrors: string[] = [];

/** The page's last record once settled: the image it classified, the plan and the answer. */
interface Settled {
  image: RawImage | number[];
  split: number;
  threshold: number;
  decidedBy: string;
  label: number;
  exit: number;
  bytesSent: number;
}

async function waitForRecord(before: number): Promise<Settled> {
  await page.waitForFunction(
    (n) => window.spinnDemo.records.length > n && window.spinnDemo.records[n]!.end !== undefined,
    before,
    { timeout: 120_000 },
  );
  return page.evaluate((n) => {
    const r = window.spinnDemo.records[n]!;
    if (!r.result) throw new Error(`request ${r.n} failed in the page: ${r.error}`);
    const p = r.pixels;
    return {
      image:
        p instanceof Uint8Array
          ? Array.from(p)
          : { data: Array.from(p.data), width: p.width, height: p.height, channels: p.channels },
      split: r.plan.split,
      threshold: r.plan.threshold,
      decidedBy: r.result.decidedBy,
      label: r.result.label,
      exit: r.result.exit,
      bytesSent: r.result.bytesSent,
    } as Settled;
  }, before);
}

/** What the source model answers for the image the page classified, under the page's plan. */
async function expected(s: Settled): Promise<{ label: number; exit: number }> {
  const img: RawImage = Array.isArray(s.image)
    ? greyImage(Uint8Array.from(s.image), manifest.input)
    : { ...s.image, data: Uint8Array.from(s.image.data as ArrayLike<number>) };
  const [logits] = await sourceModelLogits(DIR, manifest, [img]);
  const { label, exit } = expectedAnswer(logits!, s.threshold, manifest);
  return { label, exit };
}

/** A colour PNG: a test garment tinted orange on a dark blue ground, 100×120 (the page fits it into 96×96). */
function colourPng(grey: Uint8Array): Buffer {
  const png = new PNG({ width: 100, height: 120 });
  for (let y = 0; y < 120; y++)
    for (let x = 0; x < 100; x++) {
      const v = grey[Math.floor((y * 28) / 120) * 28 + Math.floor((x * 28) / 100)]!;
      png.data.set([v, Math.round(v * 0.6), 40 - Math.round((v * 40) / 255), 255], (y * 100 + x) * 4);
    }
  return PNG.sync.write(png);
}

describe(`demo page with ${MODEL_ID} in Chromium against the real worker and backend`, () => {
  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('opens on the colour model and says what it takes', async () => {
    await page.goto(`${stack.edge.url}/?model=${MODEL_ID}#key=${stack.apiKey}`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, {
      timeout: 180_000,
    });
    expect(await page.locator('#error-text').textContent()).toBe('');
    expect(await page.inputValue('#model')).toBe(MODEL_ID);
    expect(await page.locator('#model-desc').textContent()).toMatch(/3×96×96 \(colour\)/);
  });

  it('answers gallery samples on the device and on the server as the source model does', async () => {
    const samples = loadFmnistTest(24);
    const plans: Array<[string, string]> = [
      ['on-device', '1'],
      ['max-accuracy', '8'],
    ];
    const decided = new Set<string>();
    for (const [preset, factor] of plans) {
      await page.selectOption('#preset', preset);
      await page.selectOption('#device-speed', factor);
      for (const i of [0, 1]) {
        const before = await page.evaluate(() => window.spinnDemo.records.length);
        await page.locator(`[data-sample="${samples[i]!.index}"]`).click();
        const s = await waitForRecord(before);
        decided.add(s.decidedBy);
        expect({ preset, i, label: s.label, exit: s.exit }).toEqual({ preset, i, ...(await expected(s)) });
      }
    }
    // The device decided (on-device preset) and the server did (a device emulated 8× slower than the round trip).
    expect([...decided].sort()).toEqual(['device', 'server']);
  });

  it('classifies a colour PNG upload at 96×96×3, as the source model does for that image', async () => {
    const before = await page.evaluate(() => window.spinnDemo.records.length);
    await page.setInputFiles('#file', {
      name: 'tinted.png',
      mimeType: 'image/png',
      buffer: colourPng(loadFmnistTest(1)[0]!.pixels),
    });
    const s = await waitForRecord(before);
    expect(Array.isArray(s.image)).toBe(false);
    expect(s.image).toMatchObject({ width: 96, height: 96, channels: 3 });
    expect({ label: s.label, exit: s.exit }).toEqual(await expected(s));
    expect(pageErrors).toEqual([]);
  });
});
