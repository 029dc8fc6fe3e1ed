// A pooled connection must survive an error answered before the request body was read. workerd resets a connection
// whose request body was left unread, so a client reusing it (browsers and Node pool connections) lost its next
// request with ECONNRESET — the hostile storm hit it after 415s. The worker now reads the rest of the body (up to
// the offload limit) before any error answer. One keep-alive socket, alternating refused and valid requests.

import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { encodeMessage } from '../../core/wire.js';
import { offload } from '../support/wire-helpers.js';

let backend: FakeBackend;
let worker: RunningWorker;
beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({
    backendUrl: backend.url,
    assetsDir: writeFixtureAssets().dir,
    vars: { MODELS: FIXTURE_MODEL_ID },
  });
});
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

function post(agent: Agent, path: string, type: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${worker.url}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': type, 'content-length': body.byteLength, ...worker.auth },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('connection reuse after an early error', () => {
  it('keeps a pooled connection usable after 415s, 404s and 413s with large unread bodies', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push(await post(agent, '/v1/infer', 'text/plain', new Uint8Array(300_000)));
        statuses.push(await post(agent, '/v1/nothing', WIRE_CONTENT_TYPE, new Uint8Array(100_000)));
        statuses.push(await post(agent, '/v1/infer', WIRE_CONTENT_TYPE, new Uint8Array(1_200_000))); // over 1 MiB
        statuses.push(await post(agent, '/v1/infer', WIRE_CONTENT_TYPE, encodeMessage(offload())));
      }
      expect(statuses).toEqual(Array.from({ length: 20 }, () => [415, 404, 413, 200]).flat());
    } finally {
      agent.destroy();
    }
  });
});
