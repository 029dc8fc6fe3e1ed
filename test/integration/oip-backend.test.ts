// Server-only requests sent by the real worker (wrangler dev) to an Open Inference Protocol v2 server: the project's
// own backend's /v2 routes, which follow the protocol, stand in for Triton or KServe. Two edges over one backend:
// one configured the protocol's plain way (the model's name, `probabilities` out, the final exit answers), one
// SPINN-aware (earlyExit: the threshold as a parameter, the answering exit read back). Asserted: real images get the
// original model's answer, the request went through /v2 (the backend's internal API never saw it) while a
// mid-network offload still goes to the SPINN backend, the edge's record names the OIP server, and a cancel says the
// protocol has none and answers the offload `cancelled`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedShape } from '../../core/offload-validation.js';
import { greyImage, imageToPixels } from '../../core/preprocess.js';
import { encodePixels } from '../../core/tensor-codec.js';
import {
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  decodeResult,
  encodeMessage,
  type ResultMessage,
} from '../../core/wire.js';
import { bearer } from '../../harness/api-keys.js';
import { startBackend, startEdge, type EdgeService, type Service } from '../../harness/stack.js';
import { loadFmnistTest } from '../client/support/fmnist.js';
import { expectedAnswer, referenceLogits } from '../client/support/reference.js';
import { knownOffloads } from '../hostile/support/valid-offloads.js';
import { manifest } from './stack-fixture.js';

const TOKEN = 'oip-test-token';
let backend: Service;
let plainEdge: EdgeService;
let earlyEdge: EdgeService;

const oipVar = (earlyExit: boolean) =>
  JSON.stringify([
    {
      url: backend.url,
      name: 'oip-self',
      models: { [manifest.id]: earlyExit ? { model: manifest.id, earlyExit: true } : manifest.id },
    },
  ]);

beforeAll(async () => {
  backend = await startBackend({ token: TOKEN, workers: 1, threads: 1, testHooks: true });
  const edge = (earlyExit: boolean) =>
    startEdge({
      backendUrl: backend.url,
      token: TOKEN,
      vars: { OIP_BACKENDS: oipVar(earlyExit), OIP_TOKEN: TOKEN },
    });
  [plainEdge, earlyEdge] = await Promise.all([edge(false), edge(true)]);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([plainEdge?.stop(), earlyEdge?.stop()]);
  await backend?.stop();
}, 60_000);

const samples = loadFmnistTest(6, 700);

/** A server-only offload: the image's pixels at model resolution (u8), as a client sends it at split 0. */
function serverOnly(requestId: string, pixels: Uint8Array, threshold: number): Uint8Array {
  const u8 = imageToPixels(greyImage(pixels, manifest.input), manifest.input);
  return encodeMessage({
    v: PROTOCOL_VERSION,
    requestId,
    modelId: manifest.id,
    split: 0,
    threshold,
    tensor: encodePixels(u8, expectedShape(manifest, 0)),
    context: {},
  });
}

async function offload(
  edge: EdgeService,
  body: Uint8Array,
): Promise<{ status: number; result: ResultMessage }> {
  const res = await fetch(`${edge.url}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...bearer(edge.apiKeys[0]!) },
    body: body as BodyInit,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!(res.headers.get('content-type') ?? '').startsWith(WIRE_CONTENT_TYPE))
    throw new Error(`HTTP ${res.status}: ${new TextDecoder().decode(bytes)}`);
  return { status: res.status, result: decodeResult(bytes) };
}

const edgeRecord = async (edge: EdgeService, id: string) =>
  (await (await fetch(`${edge.url}/v1/requests/${id}`, { headers: bearer(edge.apiKeys[0]!) })).json()) as {
    status: string;
    backend: string | null;
  };

const backendKnows = async (id: string) =>
  (await fetch(`${backend.url}/requests/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status !==
  404;

describe('server-only requests to an Open Inference Protocol v2 server', () => {
  it("answer with the original model's label and exit, through /v2, by the plain and the SPINN-aware config", async () => {
    const logits = await referenceLogits(manifest, samples);
    // The two configurations must be told apart: at 0.8 some of these images leave at an early exit.
    const finalExit = manifest.exits.length - 1;
    expect(logits.some((l) => expectedAnswer(l, 0.8, manifest).exit < finalExit)).toBe(true);
    for (const [i, s] of samples.entries()) {
      for (const [edge, threshold, early] of [
        [plainEdge, 0.8, false],
        [earlyEdge, 0.8, true],
        [earlyEdge, 1, true],
      ] as const) {
        const id = `oip-${early ? 'early' : 'plain'}-${threshold * 100}-${i}`;
        const { status, result } = await offload(edge, serverOnly(id, s.pixels, threshold));
        // The plain protocol has no early exits: the whole model answers whatever the threshold.
        const want = expectedAnswer(logits[i]!, early ? threshold : 1, manifest);
        expect({ status, status_: result.status, label: result.label, exit: result.exit }, id).toEqual({
          status: 200,
          status_: 'done',
          label: want.label,
          exit: want.exit,
        });
        expect(result.blocksRun).toBe(manifest.exits[want.exit]!.afterBlock + 1);
        expect(await edgeRecord(edge, id)).toMatchObject({ status: 'done', backend: 'oip-self' });
        expect(await backendKnows(id), `${id} reached the internal API`).toBe(false);
      }
    }
  });

  it('a mid-network offload still goes to the SPINN backend', async () => {
    const [k] = await knownOffloads(1, [5], 710);
    const { status, result } = await offload(earlyEdge, k!.body('oip-split5'));
    expect({ status, label: result.label, exit: result.exit }).toEqual({
      status: 200,
      label: k!.label,
      exit: k!.exit,
    });
    expect(await edgeRecord(earlyEdge, 'oip-split5')).toMatchObject({ backend: 'backend-0' });
    expect(await backendKnows('oip-split5')).toBe(true);
  });

  it('a cancel closes the call (the protocol has no cancel) and the offload answers cancelled', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    await fetch(`${backend.url}/test/hold`, { method: 'POST', headers, body: '{"afterBlocks":1}' });
    const pending = offload(earlyEdge, serverOnly('oip-cancel', samples[0]!.pixels, 1));
    for (;;) {
      const { held } = (await (await fetch(`${backend.url}/test/hold`, { headers })).json()) as {
        held: string[];
      };
      if (held.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await fetch(`${earlyEdge.url}/v1/requests/oip-cancel`, {
      method: 'DELETE',
      headers: bearer(earlyEdge.apiKeys[0]!),
    });
    const reply = (await res.json()) as { status: string; backend: { ok: boolean; skipped?: string } };
    expect(reply).toMatchObject({ status: 'cancelled', backend: { ok: true } });
    expect(reply.backend.skipped).toMatch(/Open Inference Protocol, which has no cancel/);
    expect(await pending).toMatchObject({ status: 200, result: { status: 'cancelled' } });
    await fetch(`${backend.url}/test/hold`, { method: 'DELETE', headers });
  });
});
