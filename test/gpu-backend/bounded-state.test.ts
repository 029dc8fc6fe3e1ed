// The backend's in-memory state stays bounded under a flood, through its real API (real pool, real model): cancels
// of ids it never saw are remembered up to --max-early-cancels, request records up to --max-records (least recently
// used evicted), and nothing stays queued or in flight once the answers are out. /metrics reports both sizes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../gpu-backend/server.js';
import { silentLogger } from '../../gpu-backend/log.js';
import { inferInit, newRequestId, offloadBody, readResult, testConfig, testImages } from './helpers.js';

const MAX_EARLY_CANCELS = 50;
const MAX_RECORDS = 40;

describe('gpu-backend bounded state', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend(
      testConfig({ maxEarlyCancels: MAX_EARLY_CANCELS, maxRecords: MAX_RECORDS }),
      silentLogger,
    );
  });
  afterAll(async () => backend?.close(0));

  const gauge = async (name: string) => {
    const text = await (await backend.app.request('/metrics')).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return Number(m?.[1]);
  };

  it(`remembers at most ${MAX_EARLY_CANCELS} early cancels however many arrive`, async () => {
    for (let i = 0; i < 20 * MAX_EARLY_CANCELS; i++) {
      const res = await backend.app.request(`/cancel/${newRequestId('flood')}`, { method: 'POST' });
      expect(res.status).toBe(200);
    }
    expect(await gauge('spinn_backend_early_cancels')).toBe(MAX_EARLY_CANCELS);
  });

  it(`keeps at most ${MAX_RECORDS} request records, the most recent, and nothing in flight afterwards`, async () => {
    const image = testImages(1)[0]!;
    const ids = Array.from({ length: 3 * MAX_RECORDS }, () => newRequestId('rec'));
    for (const requestId of ids) {
      // Threshold 0: the first exit answers, so the flood costs little compute.
      const body = offloadBody({
        requestId,
        split: 0,
        threshold: 0,
        values: image.slice(),
        shape: [1, 1, 32, 32],
      });
      expect((await readResult(await backend.app.request('/infer', inferInit(body)))).status).toBe('done');
    }
    expect(await gauge('spinn_backend_request_records')).toBe(MAX_RECORDS);
    expect((await backend.app.request(`/requests/${ids[0]}`)).status).toBe(404);
    expect((await backend.app.request(`/requests/${ids.at(-1)}`)).status).toBe(200);
    expect(await gauge('spinn_backend_queue_depth')).toBe(0);
    expect(await gauge('spinn_backend_workers_busy')).toBe(0);
  });
});
