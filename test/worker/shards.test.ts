// Many requests in one shard object (REQUEST_SHARDS=1, so every id shares it) through real workerd: each id keeps
// its own lifecycle. A cancel wakes only its own request's route, a tombstone only refuses its own id, a reused id is
// refused while other ids go on, and every record reads its own state. Every step waits on an event (the backend
// holding a request, an answer), never on a timer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { offload, postOffload, readResult } from '../support/wire-helpers.js';

let backend: FakeBackend;
let worker: RunningWorker;

beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({
    backendUrl: backend.url,
    assetsDir: writeFixtureAssets().dir,
    vars: { MODELS: FIXTURE_MODEL_ID, REQUEST_SHARDS: '1' },
  });
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

const cancel = async (id: string) =>
  (await (
    await fetch(`${worker.url}/v1/requests/${id}`, { method: 'DELETE', headers: worker.auth })
  ).json()) as Record<string, any>;
const status = async (id: string) =>
  (
    (await (await fetch(`${worker.url}/v1/requests/${id}`, { headers: worker.auth })).json()) as {
      status: string;
    }
  ).status;

describe('one shard object holding many requests', () => {
  it('keeps each id apart: cancels, tombstones, reuse and results', async () => {
    const [a, b, c, d] = [offload(), offload(), offload(), offload()];
    backend.delayMs = 60_000;
    try {
      const answerA = postOffload(worker.url, a);
      const answerB = postOffload(worker.url, b);
      await backend.nextInfer(a.requestId);
      await backend.nextInfer(b.requestId);
      await expect.poll(() => status(b.requestId)).toBe('running');

      // A cancel before its offload, in the same object as two running requests.
      expect(await cancel(c.requestId)).toMatchObject({ status: 'cancelled', cancelledBeforeOffload: true });

      // Cancelling A wakes A's route only.
      expect(await cancel(a.requestId)).toMatchObject({ status: 'cancelled', cancelledBeforeOffload: false });
      expect((await readResult(await answerA)).status).toBe('cancelled');
      expect(await status(b.requestId)).toBe('running');

      // C's tombstone answers C's offload; D, a fresh id, runs; D again is refused.
      backend.delayMs = 0;
      expect((await readResult(await postOffload(worker.url, c))).status).toBe('cancelled');
      expect((await readResult(await postOffload(worker.url, d))).status).toBe('done');
      expect((await postOffload(worker.url, d)).status).toBe(409);
      expect(await status(b.requestId)).toBe('running');

      // B is still its own request: cancelled now, idempotently.
      expect(await cancel(b.requestId)).toMatchObject({ status: 'cancelled', cancelledBeforeOffload: false });
      expect((await readResult(await answerB)).status).toBe('cancelled');
      expect(await cancel(b.requestId)).toMatchObject({ status: 'cancelled' });
      expect(await Promise.all([a, b, c, d].map((m) => status(m.requestId)))).toEqual([
        'cancelled',
        'cancelled',
        'cancelled',
        'done',
      ]);
    } finally {
      backend.delayMs = 0;
    }
  });
});
