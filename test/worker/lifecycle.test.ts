// The RequestState record's life in durable storage: it survives the worker process going away (eviction,
// restart) and is deleted by the Durable Object alarm after REQUEST_RETENTION_MS.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker } from '../support/start-worker.js';
import { offload, postOffload, readResult } from '../support/wire-helpers.js';

let backend: FakeBackend;
const assetsDir = writeFixtureAssets().dir;

beforeAll(async () => {
  backend = await startFakeBackend();
});
afterAll(async () => backend?.close());

describe('request records', () => {
  it('survive a restart of workerd (state lives in Durable Object storage)', async () => {
    const persistDir = mkdtempSync(join(tmpdir(), 'spinn-do-'));
    const opts = { backendUrl: backend.url, assetsDir, persistDir, vars: { MODELS: FIXTURE_MODEL_ID } };
    const msg = offload();
    const first = await startWorker(opts);
    try {
      expect((await readResult(await postOffload(first.url, msg))).status).toBe('done');
      // The outcome is recorded just after the answer leaves (worker/offload-flow.ts, afterAnswer): stop once the
      // record says so, as a restart that comes later would.
      await expect
        .poll(async () => {
          const r = await fetch(`${first.url}/v1/requests/${msg.requestId}`, { headers: first.auth });
          return r.ok ? ((await r.json()) as { status: string }).status : r.status;
        })
        .toBe('done');
    } finally {
      await first.stop();
    }
    const second = await startWorker(opts);
    try {
      const res = await fetch(`${second.url}/v1/requests/${msg.requestId}`, { headers: second.auth });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ requestId: msg.requestId, status: 'done' });
      // And the id is still single-use after the restart.
      expect((await postOffload(second.url, msg)).status).toBe(409);
    } finally {
      await second.stop();
    }
  });

  it('of a backend call cut off by a restart read `failed`, not `running` forever', async () => {
    const persistDir = mkdtempSync(join(tmpdir(), 'spinn-do-'));
    const opts = { backendUrl: backend.url, assetsDir, persistDir, vars: { MODELS: FIXTURE_MODEL_ID } };
    const msg = offload();
    const first = await startWorker(opts);
    backend.delayMs = 30_000;
    try {
      const inflight = postOffload(first.url, msg).catch(() => null);
      await backend.nextInfer(msg.requestId);
      // The edge claims the id beside the backend call (worker/offload-flow.ts): stop once the record says so.
      await expect
        .poll(async () => {
          const r = await fetch(`${first.url}/v1/requests/${msg.requestId}`, { headers: first.auth });
          return r.ok ? ((await r.json()) as { status: string }).status : r.status;
        })
        .toBe('running');
      await first.stop();
      await inflight;
    } finally {
      backend.delayMs = 0;
    }
    const second = await startWorker(opts);
    try {
      const rec = (await (
        await fetch(`${second.url}/v1/requests/${msg.requestId}`, { headers: second.auth })
      ).json()) as Record<string, any>;
      expect(rec).toMatchObject({ status: 'failed', error: expect.stringMatching(/restarted/) });
      expect(Object.keys(rec.timestamps).sort()).toEqual(['failed', 'pending', 'running']);
    } finally {
      await second.stop();
    }
  });

  it('are deleted by the alarm after REQUEST_RETENTION_MS', async () => {
    const worker = await startWorker({
      backendUrl: backend.url,
      assetsDir,
      vars: { MODELS: FIXTURE_MODEL_ID, REQUEST_RETENTION_MS: '500' },
    });
    try {
      const msg = offload();
      expect((await readResult(await postOffload(worker.url, msg))).status).toBe('done');
      expect(
        (await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth })).status,
      ).toBe(200);
      await expect
        .poll(
          async () =>
            (await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth })).status,
          {
            timeout: 5_000,
          },
        )
        .toBe(404);
    } finally {
      await worker.stop();
    }
  });
});
