// Open Inference Protocol v2 (the REST API of KServe and NVIDIA Triton) on the backend, for whole-model inference:
// server and model metadata, liveness and readiness, and `POST /v2/models/{name}/infer` with JSON tensors or the
// binary tensor data extension. Each image of a request's batch becomes one job in the same pool as the internal API,
// so it is batched with everything else; the answer is the exit's softmax, label, confidence and index (the request
// parameter `threshold` enables early exits; 1, the default, runs the whole model). Errors are `{"error": "..."}`
// with 400 for a bad request, 404 for an unknown model, 503 when overloaded or shutting down. The bearer token of the
// internal API guards these routes too (the app's middleware).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { limitBody } from './body-limit.js';
import type { AppState } from './app.js';
import { PoolClosedError, QueueFullError, type InferencePool, type JobOutcome } from './inference-pool.js';
import { noteRequestId } from './access-log.js';
import type { BackendMetrics } from './metrics.js';
import type { LoadedModel } from './model-store.js';
import {
  OipError,
  encodeResponse,
  modelMetadata,
  parseInferRequest,
  readInput,
  selectOutputs,
  splitBinaryBody,
  thresholdOf,
  type Answer,
} from './oip-tensors.js';

export interface OipDeps {
  models: Map<string, LoadedModel>;
  pool: InferencePool;
  metrics: BackendMetrics;
  maxBodyBytes: number;
  fail: (c: Context, status: ContentfulStatusCode, reason: string, error: string) => Response;
}

const HEADER_LENGTH = 'inference-header-content-length';
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function registerOpenInference(app: Hono, deps: OipDeps, state: AppState): void {
  const { models, pool, fail } = deps;
  const ready = () => !state.draining && pool.stats().ready > 0;
  const unknownModel = (c: Context, name: string) =>
    fail(
      c,
      404,
      'not_found',
      `unknown model ${JSON.stringify(name)}; this server has ${[...models.keys()].join(', ')}`,
    );

  app.get('/v2', (c) =>
    c.json({ name: 'spinn-backend', version: VERSION, extensions: ['binary_tensor_data'] }),
  );
  // The protocol: 200 means true, a 4xx means false.
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => c.json({ ready: ready() }, ready() ? 200 : 400));
  app.get('/v2/models/:name', (c) => {
    const m = models.get(c.req.param('name'));
    return m ? c.json(modelMetadata(m.manifest)) : unknownModel(c, c.req.param('name'));
  });
  app.get('/v2/models/:name/ready', (c) => {
    const name = c.req.param('name');
    if (!models.has(name)) return unknownModel(c, name);
    return c.json({ name, ready: ready() }, ready() ? 200 : 400);
  });

  app.post(
    '/v2/models/:name/infer',
    limitBody(deps.maxBodyBytes, (c) =>
      fail(c, 413, 'too_large', `request body exceeds ${deps.maxBodyBytes} bytes`),
    ),
    async (c) => {
      const name = c.req.param('name');
      const model = models.get(name);
      if (!model) return unknownModel(c, name);
      if (state.draining) return fail(c, 503, 'shutting_down', 'the backend is shutting down');
      let parsed;
      try {
        const { json, tail } = splitBinaryBody(
          new Uint8Array(await c.req.arrayBuffer()),
          c.req.header(HEADER_LENGTH),
        );
        const req = parseInferRequest(json);
        parsed = {
          req,
          input: readInput(req, tail, model.manifest),
          threshold: thresholdOf(req),
          outputs: selectOutputs(req),
        };
      } catch (e) {
        if (e instanceof OipError) return fail(c, 400, 'bad_request', e.message);
        throw e;
      }
      const id = parsed.req.id ?? randomUUID();
      noteRequestId(c, id);
      const ran = await runImages(deps, name, parsed.input, parsed.threshold);
      if ('status' in ran) {
        if (ran.status === 500) return c.json({ error: ran.error }, 500); // the model failed: not a refusal
        c.header('retry-after', '1');
        return fail(c, ran.status, ran.reason, ran.error);
      }
      const { body, headerLength } = encodeResponse(
        { model_name: name, id, parameters: { threshold: parsed.threshold } },
        parsed.outputs,
        ran.answers,
      );
      const headers: Record<string, string> = {
        'content-type': headerLength === null ? 'application/json' : 'application/octet-stream',
      };
      if (headerLength !== null) headers[HEADER_LENGTH] = String(headerLength);
      return c.body(body as Uint8Array<ArrayBuffer>, 200, headers);
    },
  );
}

type RunFailure = { status: 500 | 503; reason: string; error: string };

/** Submits every image of the batch as its own job (all or none) and waits for their answers. */
async function runImages(
  deps: OipDeps,
  modelId: string,
  input: { values: Float32Array; batch: number; perImage: number },
  threshold: number,
): Promise<{ answers: Answer[] } | RunFailure> {
  const { pool, metrics } = deps;
  const shape = [1, ...deps.models.get(modelId)!.manifest.input.shape.slice(1)];
  const base = `oip-${randomUUID()}`;
  const pending: Promise<JobOutcome>[] = [];
  try {
    for (let k = 0; k < input.batch; k++) {
      const values = input.values.slice(k * input.perImage, (k + 1) * input.perImage);
      pending.push(pool.submit({ requestId: `${base}-${k}`, modelId, split: 0, threshold, values, shape }));
    }
  } catch (e) {
    for (let k = 0; k < pending.length; k++) pool.cancel(`${base}-${k}`);
    await Promise.all(pending);
    if (e instanceof QueueFullError)
      return { status: 503, reason: 'queue_full', error: `backend overloaded: ${e.message}` };
    if (e instanceof PoolClosedError) return { status: 503, reason: 'shutting_down', error: e.message };
    throw e;
  }
  const outcomes = await Promise.all(pending);
  for (const o of outcomes) metrics.observeOutcome(o, true);
  const failed = outcomes.find((o) => o.status === 'failed');
  if (failed) return { status: 500, reason: 'inference_failed', error: failed.error ?? 'inference failed' };
  if (outcomes.some((o) => o.status === 'cancelled')) {
    return {
      status: 503,
      reason: 'shutting_down',
      error: 'the backend shut down before the request was answered',
    };
  }
  return {
    answers: outcomes.map((o) => ({
      probabilities: o.probabilities!,
      label: o.label!,
      confidence: o.confidence!,
      exit: o.exit!,
    })),
  };
}
