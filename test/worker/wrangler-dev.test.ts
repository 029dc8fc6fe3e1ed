// The developer/demo path: `wrangler dev` on wrangler.toml as is (the built site: real model assets), started in
// its own process group and stopped by group, with var overrides pointing it at a test backend and giving it the
// harness's API key.

import { execSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startEdge, type EdgeService } from '../../harness/stack.js';

let backend: FakeBackend;
let dev: EdgeService;

beforeAll(async () => {
  backend = await startFakeBackend();
  const t0 = performance.now();
  dev = await startEdge({ backendUrl: backend.url });
  console.log(`wrangler dev ready in ${(performance.now() - t0).toFixed(0)} ms`);
});

afterAll(async () => {
  await dev?.stop();
  await backend?.close();
});

describe('wrangler dev', () => {
  it('serves the worker with the real model assets and reaches the backend', async () => {
    const health = (await (await fetch(`${dev.url}/healthz`)).json()) as Record<string, any>;
    expect(health).toMatchObject({ status: 'ok', backend: { url: backend.url, reachable: true } });
    const models = (await (await fetch(`${dev.url}/v1/models`)).json()) as { models: { id: string }[] };
    expect(models.models.map((m) => m.id)).toContain('resnet56-fmnist');
  });

  it('requires the API key on keyed routes and serves no training files', async () => {
    const plan = (headers: Record<string, string>) =>
      fetch(`${dev.url}/v1/plan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ modelId: 'resnet56-fmnist' }),
      });
    const refused = await plan({});
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
    const ok = await plan({ authorization: `Bearer ${dev.apiKeys[0]}` });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    for (const path of ['/resnet56-fmnist/train/model.onnx', '/resnet56-fmnist/train/train-log.json']) {
      const res = await fetch(`${dev.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
  });

  it('stop() leaves no process of the group (workerd included) behind', async () => {
    const members = () => execSync(`ps -o pid=,comm= -g ${dev.pid} || true`).toString().trim();
    expect(members()).toMatch(/workerd/);
    await dev.stop();
    // Exited children may linger as zombies for a moment until their parents reap them.
    await expect.poll(members, { timeout: 5_000 }).toBe('');
    await expect(fetch(`${dev.url}/healthz`)).rejects.toThrow();
  });
});
