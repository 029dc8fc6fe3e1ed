// The table of the edge's operations for the OpenAPI document (worker/openapi-document.ts): each route's method and
// path exactly as the app registers it (Hono syntax; test/worker/unit/openapi-routes.test.ts holds the two sets
// equal), its prose, and which schema (by component name) each body and answer has. Schemas themselves are never
// written here: they come from zod.

import { DEFAULT_MAX_OFFLOAD_BYTES, PROTOCOL_VERSION, WIRE_CONTENT_TYPE } from '../core/wire.js';
import { MAX_IMAGE_BODY_BYTES, MAX_IMAGE_PIXELS } from './image-input.js';
import type { SchemaName } from './openapi-document.js';

type SharedResponse = 'Unauthorized' | 'Forbidden' | 'TooManyRequests' | 'RequestTimeout' | 'Unavailable';

interface Response {
  description: string;
  /** Media type and schema of the body; no schema: any bytes of that type. */
  body?: { type: string; schema?: SchemaName };
  headers?: Record<string, unknown>;
}

export interface Operation {
  method: 'get' | 'post' | 'delete';
  /** As registered with Hono (`:id`, a trailing `*`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Needs an API key (and counts against the key's limits). */
  keyed?: boolean;
  parameters?: {
    name: string;
    in: 'path' | 'query';
    required: boolean;
    description?: string;
    schema: SchemaName | object;
  }[];
  request?: { description?: string; content: Record<string, SchemaName | object> };
  responses: Record<string, Response | SharedResponse>;
}

/** Hono's path syntax in OpenAPI's: `:id` → `{id}`, a trailing `*` → `{path}` (the rest of the path, `/` included). */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

const json = (schema: SchemaName) => ({ type: 'application/json', schema });
const msgpack = (schema: SchemaName) => ({ type: WIRE_CONTENT_TYPE, schema });
const error = (description: string): Response => ({ description, body: json('Error') });
const KEYED: Record<string, SharedResponse> = {
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '429': 'TooManyRequests',
  '503': 'Unavailable',
};
/** The header every answer of the offload path carries (worker/routes/infer.ts serverTiming). */
const SERVER_TIMING = {
  'Server-Timing': {
    description:
      "where the time went, ms: `edge` (the edge's own waiting), `backend` (the backend call as the edge saw it), `claim` (the Durable Object's verdict on the id, beside the backend call), `queue` and `compute` (as the backend reports them)",
    schema: { type: 'string' },
  },
};
const MODEL_UNKNOWN = error('Model not served by this edge.');
const requestIdParam = { name: 'id', in: 'path' as const, required: true, schema: 'RequestId' as const };
const modelIdParam = { name: 'id', in: 'path' as const, required: true, schema: { type: 'string' } };

export const SHARED_RESPONSES: Record<SharedResponse, Omit<Response, 'body'>> = {
  Unauthorized: {
    description:
      'No API key, or one the edge does not know. Carries `www-authenticate: Bearer realm="spinn"`.',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
  },
  Forbidden: {
    description:
      'The edge has no API keys configured and refuses API calls (it fails closed; only a local dev server may run without keys).',
  },
  TooManyRequests: {
    description:
      "The key is over its rate limit (Retry-After: the limiter's period) or, for offloads and classifications, has too many in flight (Retry-After: 1).",
    headers: {
      'Retry-After': {
        description: 'Seconds to wait before retrying.',
        schema: { type: 'integer', minimum: 1 },
      },
    },
  },
  RequestTimeout: { description: 'The request body did not arrive in full within BODY_TIMEOUT_MS.' },
  Unavailable: {
    description:
      "The edge's API_KEYS configuration is malformed, or the edge has no backend (BACKEND_URL unset or not an http(s) URL); the message says which.",
  },
};

export const API_DESCRIPTION =
  `Edge hop of SPINN-TS: clients offload the activation after split s as a msgpack body (wire protocol ${PROTOCOL_VERSION}, core/wire.ts; info.version is the spinn-ts package version, x-spinn-protocol-version the wire protocol, see README Versions); the edge validates it against the model manifest, forwards it to the backend while the request's RequestState Durable Object claims the id beside that call, and answers with a small ResultMessage (the next plan only when it changed). A client that runs nothing itself posts an image to /v1/classify. ` +
  'Every error body is JSON {"error": "..."} (at most 500 characters; an unexpected failure says only `internal error; the details are in the server log`). Msgpack bodies are plain maps and arrays: extension types (msgpackr records, structured clone, timestamps) are refused with 400; payload bytes are msgpack bin values (binary strings here). ' +
  'Routes that spend backend time or touch request state need an API key, `authorization: Bearer <key>`, and are limited per key (rate, and offloads in flight); the catalogue, this document and /healthz are public. A request id belongs to the key that first used it. This document is generated from the zod schemas the edge validates with (worker/openapi-document.ts).';

export const OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/v1/infer',
    operationId: 'infer',
    summary: 'Offload the rest of a request to the server',
    keyed: true,
    description: `Checked in this order, each before any backend work: API key (401/403), the key's rate limit and offloads in flight (429), content type (415), size against MAX_OFFLOAD_BYTES (default ${DEFAULT_MAX_OFFLOAD_BYTES} bytes), by content-length and while reading (413), the whole body within BODY_TIMEOUT_MS (408), msgpack structure (plain maps and arrays, at most 16 levels deep and 20,000 values, string keys, no extension types, no trailing bytes), protocol version and message schema (400), model served (404), then core's offload validation (400): a server-side split point of the model, an exit the server runs, the tensor shape [1, ...manifest split shape], codec header fields that fit the shape, the payload length the header allows, a full decode of the tensor, and every value finite and within ±1e9. Then a body re-encoded from the validated message (never the client's bytes) goes to the backend with a timeout (BACKEND_TIMEOUT_MS; on timeout the edge also cancels the backend's work), and beside that call the request's Durable Object claims the id: if a cancel for the id arrived first the answer is \`cancelled\` (that cancel already told the backend, which refuses the offload without computing); a second offload for an id, or an id another key used first, is 409; a cancel while the backend works answers \`cancelled\` at once. Every answer from the backend path carries \`Server-Timing\` (edge, backend, claim, queue, compute; ms). A client's mistake is always a 4xx here; 502/504 only ever mean the backend failed. Request ids are single-use.`,
    request: { content: { [WIRE_CONTENT_TYPE]: 'OffloadMessage' } },
    responses: {
      '200': {
        description:
          'The backend answered (`done`), or the request was cancelled (`cancelled`). `plan` is the plan suggested for the next request, present only when it differs from the plan this offload ran.',
        body: msgpack('ResultMessage'),
        headers: SERVER_TIMING,
      },
      '400': error(
        'Not msgpack (or msgpack outside the limits above), not an offload, unsupported protocol version, invalid request id, split not a server-side split point of the model, exit not a server-side exit, tensor shape, codec header or payload length wrong, payload that does not decode, or a non-finite or out-of-range activation value. The message says which.',
      ),
      '404': MODEL_UNKNOWN,
      '408': 'RequestTimeout',
      '409': error('This request id was already used (by this key, or first by another one).'),
      '413': error(
        "Body larger than MAX_OFFLOAD_BYTES (the backend's limit is larger, so nothing oversized is ever forwarded).",
      ),
      '415': error(`Content type is not ${WIRE_CONTENT_TYPE}.`),
      '502': {
        description:
          'Backend unreachable, answered garbage, or failed the request: a `failed` result; the client finishes locally.',
        body: msgpack('ResultMessage'),
        headers: SERVER_TIMING,
      },
      '504': {
        description:
          'Backend did not answer within BACKEND_TIMEOUT_MS: a `failed` result; the client finishes locally.',
        body: msgpack('ResultMessage'),
        headers: SERVER_TIMING,
      },
      ...KEYED,
    },
  },
  {
    method: 'post',
    path: '/v1/classify',
    operationId: 'classify',
    summary: 'Classify an image on the server (nothing runs on the client)',
    keyed: true,
    description: `For clients that run nothing themselves (curl, scripts). The body is a PNG or JPEG image (content type image/png, image/jpeg or application/octet-stream; the bytes' signature decides) or JSON {pixels, width, height, channels?, sla?}. The edge decodes it (at most ${MAX_IMAGE_PIXELS} pixels, bodies up to ${MAX_IMAGE_BODY_BYTES} bytes), applies the model's preprocessing recipe (resize, channels, padding: uint8 pixels at model resolution), asks its scheduler for the plan of a client that runs nothing locally (split 0; threshold and objectives from the SLA; without one, within 1 percentage point of the model's best accuracy, then the fastest) and sends the pixels as a split-0 \`u8\` offload along the same path as POST /v1/infer: same validation, lifecycle record (GET /v1/requests/{requestId}), cancel rules and per-key limits. ?model= picks the model (default: the first of MODELS); the model needs a preprocessing recipe.`,
    parameters: [
      {
        name: 'model',
        in: 'query',
        required: false,
        description: 'Model id (GET /v1/models); default the first model this edge serves.',
        schema: { type: 'string' },
      },
    ],
    request: {
      content: {
        'image/png': { type: 'string', format: 'binary' },
        'image/jpeg': { type: 'string', format: 'binary' },
        'application/json': 'ClassifyJson',
      },
    },
    responses: {
      '200': { description: 'The answer and the plan it was computed with.', body: json('ClassifyAnswer') },
      '400': error(
        'Not an image (neither PNG nor JPEG), an undecodable or truncated one, one over the pixel limit, JSON pixels that do not match width × height × channels, an invalid JSON body or SLA, or a model without a preprocessing recipe. The message says which.',
      ),
      '404': MODEL_UNKNOWN,
      '408': 'RequestTimeout',
      '409': error(
        'The request was cancelled (DELETE /v1/requests/{requestId}) before the backend answered.',
      ),
      '413': error(`Body larger than ${MAX_IMAGE_BODY_BYTES} bytes.`),
      '415': error(
        'Content type is none of image/png, image/jpeg, application/octet-stream, application/json.',
      ),
      '502': error('The backend was unreachable, answered garbage or failed the request.'),
      '504': error('The backend did not answer within BACKEND_TIMEOUT_MS.'),
      ...KEYED,
    },
  },
  {
    method: 'post',
    path: '/v1/plan',
    operationId: 'plan',
    summary: "A plan from the client's context and SLA (no offload)",
    keyed: true,
    description:
      "Runs the core scheduler (core/scheduler.ts) for the model with the client's reported context (its online profiler: deviceScale, bandwidthBps in bytes/s, rttMs, serverScale) and SLA (limits, priority, tolerance, policy: spinn | spinn-no-exits | device-only | server-only | neurosurgeon | edgent), plus the backend's live load from its /health (load factor 1 + (busy + queued) / workers). An unreachable backend gives a device-only plan (serverAvailable false), not an error. Used for the client's first plan and for refreshes while it runs on the device alone; every offload that carries an `sla` gets the same kind of plan on its result.",
    request: { content: { 'application/json': 'PlanRequest' } },
    responses: {
      '200': {
        description: 'The plan, with its reason, estimate and what the scheduler saw.',
        body: json('PlanAnswer'),
      },
      '400': error('Not JSON, or an invalid plan request / SLA (the message names each field).'),
      '404': MODEL_UNKNOWN,
      '408': 'RequestTimeout',
      '413': error('Body over 16 KiB.'),
      '415': error('Content type is not application/json.'),
      ...KEYED,
    },
  },
  {
    method: 'get',
    path: '/v1/requests/:id',
    operationId: 'getRequest',
    summary: 'Lifecycle of a request',
    keyed: true,
    parameters: [requestIdParam],
    responses: {
      '200': { description: "The request's record.", body: json('RequestRecord') },
      '400': error('Invalid request id.'),
      '404': error(
        'Never seen, expired (records are kept one hour, a cancel that no offload claimed one minute), or owned by another key.',
      ),
      ...KEYED,
    },
  },
  {
    method: 'delete',
    path: '/v1/requests/:id',
    operationId: 'cancelRequest',
    summary: 'Cancel a request (idempotent)',
    keyed: true,
    description:
      'Marks the request cancelled, aborts the in-flight backend call and asks the backend to stop (POST /cancel/:id on the backend). A cancel that arrives before the offload wins: the offload is later answered `cancelled` without contacting the backend. Repeated cancels return 200 with the same final state; a cancel after the request finished reports that final status (done/failed) unchanged.',
    parameters: [requestIdParam],
    responses: {
      '200': { description: 'Final state after the cancel.', body: json('CancelAnswer') },
      '400': error('Invalid request id.'),
      '404': error('The id belongs to another key (nothing is changed).'),
      ...KEYED,
    },
  },
  {
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    summary: 'Models this edge serves',
    responses: { '200': { description: 'Model ids and URLs.', body: json('ModelList') } },
  },
  {
    method: 'get',
    path: '/v1/models/:id/manifest',
    operationId: 'getManifest',
    summary: 'Validated model manifest (core/manifest.ts, tools/MANIFEST.md)',
    parameters: [modelIdParam],
    responses: {
      '200': { description: 'The manifest.', body: json('ModelManifest') },
      '404': MODEL_UNKNOWN,
      '500': error('The deployed manifest fails validation.'),
    },
  },
  {
    method: 'get',
    path: '/v1/models/:id/files/*',
    operationId: 'getModelFile',
    summary: 'A block or exit ONNX file listed in the manifest',
    description:
      "ETag is the file's sha256 from the manifest (If-None-Match gives 304). With ?sha256=<hash> matching the manifest the URL is content-addressed and cached immutably for a year; without it, caches revalidate after 5 minutes. Only the block and exit files the manifest lists are served.",
    parameters: [
      modelIdParam,
      {
        name: 'path',
        in: 'path',
        required: true,
        description: 'The file path as the manifest lists it (may contain /).',
        schema: { type: 'string' },
      },
      { name: 'sha256', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    ],
    responses: {
      '200': { description: 'ONNX bytes.', body: { type: 'application/octet-stream' } },
      '304': { description: 'Not modified.' },
      '400': error('The file path is not valid percent-encoding.'),
      '404': error('Model not served, file not in the manifest, or sha256 does not match.'),
      '502': error('The file is listed but the edge could not read it.'),
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'openapi',
    summary: 'This document (generated from the schemas the edge validates with)',
    responses: { '200': { description: 'OpenAPI 3.1.', body: { type: 'application/json' } } },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Worker health and backend reachability',
    responses: {
      '200': {
        description:
          "`ok` when the backend's /health answers 2xx within 1.5 s, else `degraded` (the worker still serves; clients run locally).",
        body: json('Health'),
      },
    },
  },
];
