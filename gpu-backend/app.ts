// The backend's internal HTTP API as a Hono app (testable with app.request(), served by main.ts): infer, cancel,
// request records, health and Prometheus metrics, plus the Open Inference Protocol v2 routes (oip-routes.ts). It validates every offload against the manifest before any work
// is queued, turns bad input into clear JSON 4xx errors, and owns the cancel rules (running, queued,
// before-arrival, already finished; all idempotent). Only the edge worker calls it, with a bearer token.

import { timingSafeEqual, createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { accessLog, noteRequestId } from './access-log.js';
import { limitBody } from './body-limit.js';
import { OffloadError, validateOffload, type ValidatedOffload } from '../core/offload-validation.js';
import {
  INTERNAL_ERROR_MESSAGE,
  describeValue,
  publicErrorMessage,
  validationMessage,
} from '../core/public-error.js';
import {
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  WireError,
  decodeOffload,
  encodeMessage,
  requestIdSchema,
  type ResultMessage,
} from '../core/wire.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { ProviderChoice } from './config.js';
import {
  PoolClosedError,
  QueueFullError,
  cancelledOutcome,
  type InferencePool,
  type JobOutcome,
} from './inference-pool.js';
import type { Logger } from './log.js';
import { PROMETHEUS_CONTENT_TYPE, type BackendMetrics } from './metrics.js';
import type { LoadedModel } from './model-store.js';
import { registerOpenInference } from './oip-routes.js';
import type { CancelState, RequestRecord, RequestRecords } from './request-records.js';
import { registerTestHooks } from './test-hooks.js';

export interface AppDeps {
  token: string | null;
  maxBodyBytes: number;
  maxQueue: number;
  /** Registers the /test/hold routes (gpu-backend/test-hooks.ts); tests only. */
  testHooks?: boolean;
  threads: number;
  requestedProvider: ProviderChoice;
  models: LoadedModel[];
  pool: InferencePool;
  cancels: CancelRegistry;
  records: RequestRecords;
  metrics: BackendMetrics;
  log: Logger;
}

/** Flipped by the server on shutdown: new offloads get 503 while in-flight ones finish. */
export interface AppState {
  draining: boolean;
}

export interface CancelResponse {
  requestId: string;
  state: CancelState;
  blocksRun?: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createApp(deps: AppDeps, state: AppState = { draining: false }): Hono {
  const { pool, cancels, records, metrics, log } = deps;
  const models = new Map(deps.models.map((m) => [m.manifest.id, m]));
  const expectedAuth = deps.token === null ? null : digest(`Bearer ${deps.token}`);
  const app = new Hono();

  const fail = (c: Context, status: ContentfulStatusCode, reason: string, error: string) => {
    metrics.rejected.inc({ reason });
    return c.json({ error: publicErrorMessage(error) }, status);
  };

  app.use('*', accessLog(log));

  // An error answered before the request body was read in full (413 mid-stream, 401, 415) leaves the rest of it on
  // the socket; a caller that pooled the connection (workerd does) would send its next request into that stream
  // and lose it ("Network connection lost" on an unrelated request, reproduced with 2 MiB bodies beside valid ones).
  // `connection: close` on every error to a request with a body makes the caller open a fresh connection instead.
  // Only error answers look at the body (c.req.raw builds a full web Request in node-server: body-limit.ts).
  app.use('*', async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const declared = c.req.header('content-length') ?? c.req.header('transfer-encoding');
    if (declared !== undefined || c.req.raw.body !== null) c.res.headers.set('connection', 'close');
  });

  app.use('*', async (c, next) => {
    if (state.draining) c.header('connection', 'close');
    if (expectedAuth) {
      // Compare digests so the comparison takes the same time whatever the header's length and content.
      const got = digest(c.req.header('authorization') ?? '');
      if (!timingSafeEqual(got, expectedAuth)) {
        c.header('www-authenticate', 'Bearer realm="spinn-backend"');
        return fail(c, 401, 'unauthorized', 'missing or wrong bearer token');
      }
    }
    await next();
  });

  app.post(
    '/infer',
    limitBody(deps.maxBodyBytes, (c) =>
      fail(c, 413, 'too_large', `request body exceeds ${deps.maxBodyBytes} bytes`),
    ),
    async (c) => {
      const received = Date.now();
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== WIRE_CONTENT_TYPE) {
        return fail(
          c,
          415,
          'unsupported_media_type',
          `content-type must be ${WIRE_CONTENT_TYPE}, got ${JSON.stringify(type)}`,
        );
      }
      if (state.draining) return fail(c, 503, 'shutting_down', 'the backend is shutting down');
      const body = new Uint8Array(await c.req.arrayBuffer());

      let validated: ValidatedOffload;
      try {
        const offload = decodeOffload(body);
        const model = models.get(offload.modelId);
        if (!model)
          return fail(
            c,
            404,
            'not_found',
            `unknown model ${describeValue(offload.modelId)}; this backend serves ${[...models.keys()].join(', ')}`,
          );
        // The edge ran the same validation; running it again costs a decode and keeps the backend safe on its own.
        validated = validateOffload(model.manifest, offload);
      } catch (e) {
        if (e instanceof WireError || e instanceof OffloadError)
          return fail(c, 400, 'bad_request', e.message);
        throw e;
      }
      const { offload, values, shape } = validated;
      const { requestId, modelId, split, threshold } = offload;
      noteRequestId(c, requestId);
      if (pool.has(requestId)) return fail(c, 409, 'conflict', `request ${requestId} is already in flight`);

      const record: RequestRecord = records.put({
        requestId,
        modelId,
        status: 'queued',
        split,
        threshold,
        blocksRun: 0,
        exit: null,
        label: null,
        confidence: null,
        receivedAt: received,
        queueMs: null,
        serverMs: null,
        totalMs: null,
        batchSize: null,
        cancelled: false,
        cancelState: null,
        blocksRunAtCancel: null,
        cancelAfterMs: null,
        error: null,
        ...carryCancel(records.get(requestId)),
      });

      // A cancel that came first wins: answer at once, compute nothing.
      if (cancels.take(requestId) || record.cancelled) {
        record.cancelled = true;
        record.cancelState ??= 'cancelled-before-arrival';
        return reply(c, record, cancelledOutcome(0));
      }

      let outcome: JobOutcome;
      try {
        outcome = await pool.submit(
          {
            requestId,
            modelId,
            split,
            threshold,
            ...(offload.exit !== undefined ? { onlyExit: offload.exit } : {}),
            values,
            shape,
          },
          { onStart: () => void (record.status = 'running') },
        );
      } catch (e) {
        record.status = 'failed';
        if (e instanceof QueueFullError) {
          record.error = e.message;
          c.header('retry-after', '1');
          return fail(c, 503, 'queue_full', `backend overloaded: ${e.message}`);
        }
        if (e instanceof PoolClosedError) return fail(c, 503, 'shutting_down', e.message);
        throw e;
      }
      if (outcome.status === 'failed')
        log.error(
          {
            requestId,
            modelId,
            split,
            error: outcome.error,
            ...(outcome.detail ? { detail: outcome.detail } : {}),
          },
          'inference failed',
        );
      return reply(c, record, outcome);
    },
  );

  /**
   * Requests running and queued right now, for the edge's scheduler (server load factor): `busy` counts requests in
   * running batches, not busy workers, so a batch of 8 weighs as 8 (on CPU it takes about 8 times as long).
   */
  function loadNow() {
    const s = pool.stats();
    return { busy: s.running, queued: s.queued, workers: Math.max(1, s.workers) };
  }

  function reply(c: Context, record: RequestRecord, o: JobOutcome) {
    record.status = o.status;
    record.blocksRun = o.blocksRun;
    record.exit = o.exit;
    record.label = o.label;
    record.confidence = o.confidence;
    record.queueMs = o.queueMs;
    record.serverMs = o.computeMs;
    record.totalMs = Date.now() - record.receivedAt;
    record.batchSize = o.batchSize > 0 ? o.batchSize : null;
    record.error = o.error ?? null;
    if (o.status === 'cancelled') record.cancelled = true;

    metrics.observeOutcome(o, record.cancelState !== 'cancelled-before-arrival');

    const msg: ResultMessage = {
      v: PROTOCOL_VERSION,
      requestId: record.requestId,
      status: o.status,
      exit: o.exit,
      label: o.label,
      confidence: o.confidence === null ? null : Math.min(1, Math.max(0, o.confidence)),
      serverMs: o.computeMs,
      queueMs: o.queueMs,
      blocksRun: o.blocksRun,
      ...(o.error ? { error: publicErrorMessage(o.error) } : {}),
      load: loadNow(),
    };
    return c.body(encodeMessage(msg) as Uint8Array<ArrayBuffer>, 200, { 'content-type': WIRE_CONTENT_TYPE });
  }

  app.post('/cancel/:requestId', (c) => {
    const parsed = requestIdSchema.safeParse(c.req.param('requestId'));
    if (!parsed.success)
      return fail(c, 400, 'bad_request', validationMessage('request id', parsed.error.issues));
    const requestId = parsed.data;
    noteRequestId(c, requestId);
    const record = records.get(requestId);
    const hit = pool.cancel(requestId);
    let res: CancelResponse;
    if (hit.state === 'running' || hit.state === 'queued') {
      const state: CancelState = hit.state === 'running' ? 'cancelled-running' : 'cancelled-queued';
      const blocksRun = hit.state === 'running' ? hit.blocksRun : 0;
      if (record && !record.cancelState) {
        record.cancelState = state;
        record.blocksRunAtCancel = blocksRun;
        record.cancelAfterMs = Date.now() - record.receivedAt;
      }
      res = { requestId, state: record?.cancelState ?? state, blocksRun };
      metrics.cancels.inc({ state: hit.state });
    } else if (hit.state === 'finishing') {
      res = { requestId, state: 'already-finished', blocksRun: hit.blocksRun };
      metrics.cancels.inc({ state: 'finished' });
    } else if (record) {
      // Finished (or cancelled earlier): repeat what the first cancel found, so cancel stays idempotent.
      res = { requestId, state: record.cancelState ?? 'already-finished', blocksRun: record.blocksRun };
      metrics.cancels.inc({ state: 'finished' });
    } else {
      cancels.remember(requestId);
      res = { requestId, state: 'cancelled-before-arrival' };
      metrics.cancels.inc({ state: 'before_arrival' });
    }
    return c.json(res);
  });

  app.get('/requests/:requestId', (c) => {
    const id = c.req.param('requestId');
    noteRequestId(c, id);
    const record = records.get(id);
    if (!record) {
      return c.json(
        { error: `no record of request ${id}${cancels.has(id) ? ' (a cancel for it is remembered)' : ''}` },
        404,
      );
    }
    const live = record.status === 'running' ? pool.progress(id) : null;
    return c.json(live === null ? record : { ...record, blocksRun: live });
  });

  if (deps.testHooks) registerTestHooks(app, pool);

  app.get('/health', (c) => {
    const s = pool.stats();
    const ok = !state.draining && s.ready > 0;
    return c.json(
      {
        status: state.draining ? 'draining' : ok ? 'ok' : 'unavailable',
        protocolVersion: PROTOCOL_VERSION,
        models: [...models.keys()],
        provider: s.provider,
        requestedProvider: deps.requestedProvider,
        providerFallbackReason: s.fallbackReason,
        workers: s.workers,
        workersReady: s.ready,
        threadsPerSession: deps.threads,
        busy: s.busy,
        running: s.running,
        queued: s.queued,
        maxQueue: deps.maxQueue,
        workerRestarts: s.workerRestarts,
        batching: Object.fromEntries(
          [...models.keys()].map((id) => [id, pool.limits(id, s.provider === 'cuda' ? 'cuda' : 'cpu')]),
        ),
        ...(deps.testHooks ? { testHooks: true } : {}),
      },
      ok ? 200 : 503,
    );
  });

  app.get('/metrics', async (c) => {
    const s = pool.stats();
    const text = await metrics.render({
      workers: s.workers,
      workersReady: s.ready,
      busy: s.busy,
      running: s.running,
      queued: s.queued,
      maxQueue: deps.maxQueue,
      provider: s.provider,
      requestedProvider: deps.requestedProvider,
      earlyCancels: cancels.size,
      records: records.size,
      workerRestarts: s.workerRestarts,
      draining: state.draining,
    });
    return c.body(text, 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
  });

  registerOpenInference(app, { models, pool, metrics, maxBodyBytes: deps.maxBodyBytes, fail }, state);

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    log.error({ path: c.req.path, error: err.message, stack: err.stack }, 'unexpected error');
    return c.json({ error: INTERNAL_ERROR_MESSAGE }, 500);
  });
  return app;
}

/** A request id that was cancelled before (its record survives) stays cancelled when it is offloaded again. */
function carryCancel(prev: RequestRecord | undefined): Partial<RequestRecord> {
  if (!prev?.cancelled) return {};
  return {
    cancelled: true,
    cancelState: prev.cancelState,
    blocksRunAtCancel: prev.blocksRunAtCancel,
    cancelAfterMs: prev.cancelAfterMs,
  };
}
