// The generators of the hostile storm (fast-check arbitraries): HTTP requests to every route of the edge worker and
// of the backend, made of what an attacker or a broken client would send — valid offloads with one field replaced
// or removed, byte flips, truncations, random bytes and random msgpack, the structures that once crashed a decoder,
// oversized and mistyped bodies, random JSON for the planner, random and malformed request ids, model ids and file
// paths, wrong methods, headers and tokens. Every request carries the category it came from, for the report.

import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { HostileCase } from '../../support/hostile-bodies.js';
import type { KnownOffload } from './valid-offloads.js';

export type Target = 'edge' | 'backend';

export interface StormRequest {
  target: Target;
  category: string;
  method: string;
  /** Path and query, starting with '/'. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
  /** Send the backend's bearer token (backend requests only). */
  auth?: boolean;
}

const MSGPACK = 'application/vnd.spinn+msgpack';
const plain = new Packr({ useRecords: false, variableMapSize: true });

/** Values that msgpack can carry, including the awkward ones (64-bit integers, NaN, binary, nesting). */
const msgpackValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.double(),
    fc.float(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 80 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('v'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie('v'), { maxKeys: 6 }),
  ),
})).v;

/** Fields of an offload a mutation may replace or delete (dotted paths into the message). */
const FIELDS = [
  'v',
  'kind',
  'requestId',
  'modelId',
  'split',
  'threshold',
  'exit',
  'context',
  'context.deviceMs',
  'context.bandwidthBps',
  'sla',
  'sla.limits',
  'sla.priority',
  'sla.policy',
  'tensor',
  'tensor.shape',
  'tensor.shape.0',
  'tensor.shape.1',
  'tensor.data',
  'tensor.codec',
  'tensor.codec.scheme',
  'tensor.codec.bits',
  'tensor.codec.granularity',
  'tensor.codec.min',
  'tensor.codec.step',
  'tensor.codec.nonZero',
  'tensor.codec.compression',
  'tensor.codec.layout',
  'extra',
];

function setPath(root: Record<string, unknown>, path: string, value: unknown, remove: boolean): void {
  const keys = path.split('.');
  let o: Record<string, unknown> = root;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== 'object' || next === null) {
      o[k] = {};
    } else o[k] = Array.isArray(next) ? [...(next as unknown[])] : { ...(next as object) };
    o = o[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (remove) delete o[last];
  else o[last] = value;
}

export interface StormContext {
  /** Offloads to mutate (their own request ids are replaced). */
  templates: KnownOffload[];
  /** The known hostile structures (test/support/hostile-bodies.ts) built from one template. */
  hostile: HostileCase[];
  modelId: string;
  /** Files the manifest lists (for the model file route). */
  files: string[];
  /** A request id for a generated offload: never the `valid-` prefix the mixed-in valid requests use. */
  freshId: () => string;
  /** A valid Open Inference Protocol v2 request (JSON) for the backend's /v2/models/{model}/infer, to mutate. */
  oipRequest: Record<string, unknown>;
}

const SMALL_BODY_LIMIT = 300;

/** A request id that is valid, almost valid, or nonsense (never the valid requests' prefix). */
const requestIdLike = fc.oneof(
  fc.stringMatching(/^h[A-Za-z0-9_-]{7,63}$/),
  fc.string({ maxLength: 100 }),
  fc.constantFrom(
    'short',
    'x'.repeat(65),
    '%ZZ',
    '..%2F..%2Fetc',
    '%00abcdefgh',
    '😀😀😀😀😀😀😀😀',
    'a/b/c/d/e/f',
  ),
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant(MSGPACK) },
  fc.constantFrom(
    'application/json',
    'text/plain',
    `${MSGPACK}; charset=utf-8`,
    MSGPACK.toUpperCase(),
    '',
    'multipart/form-data; boundary=x',
  ),
  fc.string({ maxLength: 40 }),
);

/** Bodies for POST /v1/infer and POST /infer. */
function offloadBodies(ctx: StormContext): fc.Arbitrary<{ category: string; body: Uint8Array }> {
  const template = fc.constantFrom(...ctx.templates);
  const withId = (t: KnownOffload) => ({ ...t.message, requestId: ctx.freshId() }) as Record<string, unknown>;
  return fc.oneof(
    {
      weight: 20,
      arbitrary: fc
        .tuple(template, fc.constantFrom(...FIELDS), msgpackValue, fc.boolean())
        .map(([t, field, value, remove]) => {
          const msg = withId(t);
          setPath(msg, field, value, remove);
          return { category: `field:${field.split('.')[0]}`, body: plain.pack(msg) };
        }),
    },
    {
      weight: 12,
      arbitrary: fc
        .tuple(
          template,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        )
        .map(([t, edits]) => {
          const b = plain.pack(withId(t));
          for (const [at, v] of edits) b[at % b.length] = v;
          return { category: 'byte-flip', body: b };
        }),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(template, fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([t, cut, tail]) => {
        const b = plain.pack(withId(t));
        const keep = b.subarray(0, cut % (b.length + 1));
        return { category: 'truncate-extend', body: new Uint8Array([...keep, ...tail]) };
      }),
    },
    {
      weight: 4,
      arbitrary: fc.uint8Array({ maxLength: 2000 }).map((body) => ({ category: 'random-bytes', body })),
    },
    {
      weight: 4,
      arbitrary: msgpackValue.map((v) => ({ category: 'random-msgpack', body: plain.pack(v) })),
    },
    {
      weight: 4,
      arbitrary: fc.constantFrom(...ctx.hostile).map((h) => ({ category: `known:${h.name}`, body: h.body })),
    },
    {
      // Rare (≈ 1 % of requests) but big: bodies around both services' limits, to prove an oversized offload is
      // refused cleanly and disturbs nothing beside it.
      weight: 1,
      arbitrary: fc.tuple(template, fc.integer({ min: 64 * 1024, max: 1200 * 1024 })).map(([t, pad]) => ({
        category: 'padded',
        body: plain.pack({ ...withId(t), pad: new Uint8Array(pad) }),
      })),
    },
  );
}

/** Fields of an OIP v2 infer request a mutation may replace or delete. */
const OIP_FIELDS = [
  'id',
  'parameters',
  'parameters.threshold',
  'inputs',
  'inputs.0',
  'inputs.0.name',
  'inputs.0.shape',
  'inputs.0.shape.0',
  'inputs.0.datatype',
  'inputs.0.data',
  'inputs.0.data.7',
  'inputs.0.parameters',
  'inputs.0.parameters.binary_data_size',
  'outputs',
  'outputs.0',
];

type OipBody = { category: string; body: string | Uint8Array; headerLength?: number };

/** Bodies for the backend's POST /v2/models/{model}/infer (Open Inference Protocol v2): JSON, or JSON + binary. */
function oipBodies(ctx: StormContext): fc.Arbitrary<OipBody> {
  const valid = ctx.oipRequest;
  const input = (valid.inputs as Record<string, unknown>[])[0]!;
  const binaryHead = new TextEncoder().encode(
    JSON.stringify({ inputs: [{ ...input, data: undefined, parameters: { binary_data_size: 4096 } }] }),
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...OIP_FIELDS), fc.jsonValue({ maxDepth: 3 }), fc.boolean())
        .map(([field, value, remove]): OipBody => {
          const msg = structuredClone(valid);
          setPath(msg, field, value, remove);
          return { category: 'oip:field', body: JSON.stringify(msg) };
        }),
    },
    fc.json({ maxDepth: 4 }).map((body): OipBody => ({ category: 'oip:random-json', body })),
    fc
      .constantFrom(
        JSON.stringify({ inputs: [{ ...input, data: [1e300] }] }),
        JSON.stringify({ inputs: [{ ...input, data: Array(1024).fill(3.4e38) }] }),
        `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${'['.repeat(50_000)}${']'.repeat(50_000)}}]}`,
      )
      .map((body): OipBody => ({ category: 'oip:structure', body })),
    fc
      .tuple(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: -10, max: 5000 }))
      .map(([tail, headerLength]): OipBody => {
        const body = new Uint8Array(binaryHead.length + tail);
        body.set(binaryHead);
        for (let i = binaryHead.length; i < body.length; i++) body[i] = (i * 37) & 0xff;
        return {
          category: 'oip:binary',
          body,
          headerLength: headerLength < 0 ? binaryHead.length : headerLength,
        };
      }),
  );
}

/** JSON bodies for POST /v1/plan. */
function planBodies(modelId: string): fc.Arbitrary<{ category: string; body: string }> {
  const valid = {
    modelId,
    context: { bandwidthBps: 1e6, rttMs: 20 },
    sla: { limits: { maxLatencyMs: 200 } },
  };
  return fc.oneof(
    fc.json({ maxDepth: 4 }).map((body) => ({ category: 'plan:random-json', body })),
    fc
      .tuple(
        fc.constantFrom('modelId', 'context', 'sla', 'context.rttMs', 'sla.limits', 'sla.policy', 'x'),
        fc.jsonValue(),
      )
      .map(([field, value]) => {
        const msg = structuredClone(valid) as Record<string, unknown>;
        setPath(msg, field, value, false);
        return { category: 'plan:field', body: JSON.stringify(msg) };
      }),
    fc.string({ maxLength: 300 }).map((body) => ({ category: 'plan:text', body })),
    fc.constantFrom('['.repeat(5000), '{"a":'.repeat(3000), JSON.stringify(valid)).map((body) => ({
      category: 'plan:structure',
      body,
    })),
  );
}

const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS');

/** Any request to the edge worker. */
export function edgeRequests(ctx: StormContext): fc.Arbitrary<StormRequest> {
  const edge = (
    category: string,
    m: string,
    path: string,
    headers: Record<string, string> = {},
    body?: Uint8Array | string,
  ): StormRequest => ({
    target: 'edge',
    category,
    method: m,
    path,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(offloadBodies(ctx), contentType)
        .map(([b, ct]) => edge(`infer:${b.category}`, 'POST', '/v1/infer', { 'content-type': ct }, b.body)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(planBodies(ctx.modelId), fc.constantFrom('application/json', 'text/plain', MSGPACK))
        .map(([b, ct]) => edge(b.category, 'POST', '/v1/plan', { 'content-type': ct }, b.body)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('GET', 'DELETE'), requestIdLike)
        .map(([m, id]) =>
          edge(`requests:${m}`, m, `/v1/requests/${id.includes('%') ? id : encodeURIComponent(id)}`),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(fc.constant(ctx.modelId), fc.string({ maxLength: 40 }).map(encodeURIComponent)),
          fc.oneof(
            fc.constantFrom(...ctx.files),
            fc.constantFrom(
              '../manifest.json',
              '%2e%2e/x',
              'blocks/../train/model.onnx',
              '',
              '%ZZ',
              'train/log.txt',
            ),
            fc.string({ maxLength: 60 }).map(encodeURIComponent),
          ),
          fc.option(fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 20 }))),
          fc.option(fc.string({ maxLength: 80 })),
        )
        .map(([id, file, sha, inm]) =>
          edge(
            'models:files',
            'GET',
            `/v1/models/${id}/files/${file}${sha === null ? '' : `?sha256=${encodeURIComponent(sha)}`}`,
            inm === null ? {} : { 'if-none-match': inm.replace(/[^\x20-\x7e]/g, '') },
          ),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          method,
          fc.oneof(
            fc.constantFrom(
              '/healthz',
              '/v1/models',
              `/v1/models/${ctx.modelId}/manifest`,
              '/v1/openapi.json',
              '/v1/infer',
              '/v1/plan',
              '/v1/requests/',
              '/',
              '/lib/spinn-client.js',
              '/v1/%',
              '//v1//infer',
            ),
            fc.webPath(),
            fc.string({ maxLength: 200 }).map((s) => `/v1/${encodeURIComponent(s)}`),
          ),
          fc.dictionary(
            fc.constantFrom(
              'origin',
              'access-control-request-method',
              'access-control-request-headers',
              'accept',
              'range',
            ),
            fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
            { maxKeys: 3 },
          ),
        )
        .map(([m, path, headers]) => edge('routes', m, path.startsWith('/') ? path : `/${path}`, headers)),
    },
  );
}

/** Any request to the backend's internal API (mostly with its token, as only the edge calls it). */
export function backendRequests(ctx: StormContext): fc.Arbitrary<StormRequest> {
  const backend = (
    category: string,
    m: string,
    path: string,
    auth: boolean,
    headers: Record<string, string> = {},
    body?: Uint8Array,
  ): StormRequest => ({
    target: 'backend',
    category,
    method: m,
    path,
    headers,
    auth,
    ...(body !== undefined ? { body } : {}),
  });
  const auth = fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, fc.constant(false));
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(offloadBodies(ctx), contentType, auth)
        .map(([b, ct, a]) =>
          backend(`infer:${b.category}`, 'POST', '/infer', a, { 'content-type': ct }, b.body),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('/cancel/', '/requests/'), requestIdLike, auth)
        .map(([route, id, a]) =>
          backend(
            `${route.slice(1, -1)}`,
            route === '/cancel/' ? 'POST' : 'GET',
            `${route}${id.includes('%') ? id : encodeURIComponent(id)}`,
            a,
          ),
        ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          oipBodies(ctx),
          fc.oneof({ weight: 5, arbitrary: fc.constant(ctx.modelId) }, fc.string({ maxLength: 30 })),
          fc.constantFrom('application/json', 'application/octet-stream', 'text/plain'),
          auth,
        )
        .map(([b, model, ct, a]) =>
          backend(
            b.category,
            'POST',
            `/v2/models/${encodeURIComponent(model)}/infer`,
            a,
            {
              'content-type': ct,
              ...(b.headerLength !== undefined
                ? { 'inference-header-content-length': String(b.headerLength) }
                : {}),
            },
            typeof b.body === 'string' ? new TextEncoder().encode(b.body) : b.body,
          ),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          method,
          fc.oneof(
            fc.constantFrom(
              '/health',
              '/metrics',
              '/infer',
              '/cancel',
              '/test/hold',
              '/',
              '/v2',
              '/v2/health/live',
              '/v2/health/ready',
              `/v2/models/${ctx.modelId}`,
              `/v2/models/${ctx.modelId}/ready`,
              '/v2/models/%ZZ/ready',
            ),
            fc.webPath(),
          ),
          auth,
        )
        .map(([m, path, a]) => backend('routes', m, path.startsWith('/') ? path : `/${path}`, a)),
    },
  );
}

/** A batch: requests sent at once, to either service. */
export function stormBatch(ctx: StormContext, size: number): fc.Arbitrary<StormRequest[]> {
  return fc.array(
    fc.oneof({ weight: 3, arbitrary: edgeRequests(ctx) }, { weight: 2, arbitrary: backendRequests(ctx) }),
    {
      minLength: size,
      maxLength: size,
    },
  );
}

/** Whether a body is small enough to quote in a failure report. */
export const quotable = (b: Uint8Array | string | undefined) =>
  b === undefined
    ? ''
    : typeof b === 'string'
      ? b.slice(0, SMALL_BODY_LIMIT)
      : Buffer.from(b.subarray(0, SMALL_BODY_LIMIT)).toString('hex');
