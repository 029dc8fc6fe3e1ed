// examples/browser/ in Debian's Chromium, exactly as a user runs it: the packed @spinn-ts/client installed into a
// fresh project (test/support/packed-client.ts), the example page and its sample image copied beside node_modules,
// the folder served by a plain static server on its own origin (so the page talks to the edge cross-origin, allowed
// by CORS_ORIGINS), and the real edge (workerd) and backend (onnxruntime-node) behind it. The page loads the
// package's browser build and onnxruntime-web through its import map and classifies the sample image: once through
// the edge (offloading after block 5) and once on the device alone.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Service } from '../../harness/stack.js';
import { packAndInstall, type PackedClient } from '../support/packed-client.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';
import { launchChromium, type LaunchedBrowser } from './support/chromium.js';
import { serveFolder, type StaticServer } from './support/static-server.js';

const TOKEN = 'browser-example-token';
const ANKLE_BOOT = 9;

let user: PackedClient;
let site: StaticServer;
let backend: Service;
let worker: RunningWorker;
let browser: LaunchedBrowser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  user = packAndInstall(['onnxruntime-web', 'zod']);
  for (const f of ['index.html', 'main.js'])
    copyFileSync(join(REPO_ROOT, 'examples/browser', f), join(user.dir, f));
  copyFileSync(join(REPO_ROOT, 'examples/images/ankle-boot.png'), join(user.dir, 'ankle-boot.png'));
  site = await serveFolder(user.dir);
  backend = await startBackend({ token: TOKEN, workers: 1, threads: 1 });
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: TOKEN,
    vars: { CORS_ORIGINS: site.url },
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await backend?.stop();
  await site?.close();
  user?.cleanup();
});

async function classifySample(query: Record<string, string>): Promise<Record<string, unknown>> {
  const params = new URLSearchParams({ edge: worker.url, key: worker.apiKeys[0]!, ...query });
  await page.goto(`${site.url}/index.html?${params}`);
  await page.click('#classify-sample');
  await page.waitForFunction(() => /^[{e]/.test(document.getElementById('result')!.textContent ?? ''), null, {
    timeout: 120_000,
  });
  const text = (await page.textContent('#result')) ?? '';
  expect(text, 'the page reported an error').not.toMatch(/^error/);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('examples/browser with the packed client', () => {
  it('classifies the sample through the edge (offload after block 5)', async () => {
    const r = await classifySample({ split: '5', threshold: '1' });
    console.log(`[browser example] via the edge: ${JSON.stringify(r)}`);
    expect(r).toMatchObject({ label: ANKLE_BOOT, className: 'Ankle boot', split: 5 });
    expect(r.bytesSent).toBeGreaterThan(0);
    // The request's record may be written just after the answer reached the page: poll for it.
    const recordStatus = async () => {
      const rec = await fetch(`${worker.url}/v1/requests/${String(r.requestId)}`, { headers: worker.auth });
      await rec.arrayBuffer();
      return rec.status;
    };
    await expect.poll(recordStatus, { message: 'the edge saw the request', timeout: 10_000 }).toBe(200);
  });

  it('classifies the sample on the device alone (split = every block)', async () => {
    const r = await classifySample({ split: '28', threshold: '0.9' });
    console.log(`[browser example] on the device: ${JSON.stringify(r)}`);
    expect(r).toMatchObject({
      label: ANKLE_BOOT,
      className: 'Ankle boot',
      decidedBy: 'device',
      bytesSent: 0,
    });
    expect(pageErrors).toEqual([]);
  });
});
