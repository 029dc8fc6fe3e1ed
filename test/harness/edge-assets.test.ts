// The evaluation serves the edge its calibration-half manifests through `startEdge({ assets })` (wrangler dev
// --assets): the edge must read the manifest from that folder — the profile it schedules with — not the built site.

import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEdge, type EdgeService } from '../../harness/stack.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';

const MODEL = 'resnet56-fmnist';
let backend: FakeBackend;
let edge: EdgeService;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spinn-assets-'));
  const manifest = JSON.parse(
    readFileSync(new URL(`../../models/${MODEL}/manifest.json`, import.meta.url), 'utf8'),
  );
  manifest.profile.dataset = { name: 'calibration half (test)', split: 'test', samples: 5000 };
  mkdirSync(join(dir, MODEL));
  writeFileSync(join(dir, MODEL, 'manifest.json'), JSON.stringify(manifest));
  backend = await startFakeBackend();
  edge = await startEdge({ backendUrl: backend.url, assets: dir });
});

afterAll(async () => {
  await edge?.stop();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reads the manifest from the assets folder it was given', async () => {
  const res = await fetch(`${edge.url}/v1/models/${MODEL}/manifest`, {
    headers: { authorization: `Bearer ${edge.apiKeys[0]}` },
  });
  expect(res.status).toBe(200);
  const m = (await res.json()) as { profile: { dataset: { name: string } } };
  expect(m.profile.dataset.name).toBe('calibration half (test)');
});
