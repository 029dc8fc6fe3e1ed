// The client's zod/mini checks (client/checks/) against core's full zod schemas they mirror: the same JSON Schema
// (so a field, a bound or an optional added to one and not the other fails here), and the same verdict, the same
// output and the same error message on real values and on thousands of mutations of them (which also covers the
// refinements JSON Schema cannot show). core's schemas stay the contract; this test keeps the client's copy honest.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toJSONSchema, type core } from 'zod';
import {
  parseManifest as clientParseManifest,
  modelManifestSchema as miniManifest,
} from '../../client/checks/manifest.js';
import { parseSla as clientParseSla, slaSchema as miniSla } from '../../client/checks/sla.js';
import {
  codecSpecSchema as miniCodecSpec,
  decodeResult as clientDecodeResult,
  parsePlan,
  planSchema as miniPlan,
  resultMessageSchema as miniResult,
} from '../../client/checks/wire.js';
import { codecSpecSchema } from '../../core/codec-spec-schema.js';
import { modelManifestSchema, parseManifest } from '../../core/manifest.js';
import { parseSla, slaSchema } from '../../core/sla.js';
import {
  decodeResult,
  encodeMessage,
  planSchema,
  PROTOCOL_VERSION,
  resultMessageSchema,
  type ResultMessage,
} from '../../core/wire.js';
import { PARSE_OPTIONS } from '../../client/checks/mini.js';
import { REPO_ROOT } from '../support/start-worker.js';

type Schema = core.$ZodType;

/** The JSON Schema of a zod schema, classic or mini, for one direction; descriptions and metadata left out. */
function jsonSchema(schema: Schema, io: 'input' | 'output'): unknown {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => !['description', 'title', 'examples', '$schema', 'id'].includes(k))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  return strip(toJSONSchema(schema, { io, unrepresentable: 'any' }));
}

const pairs: Array<[string, Schema, Schema]> = [
  ['codec spec', codecSpecSchema, miniCodecSpec],
  ['plan', planSchema, miniPlan],
  ['result message', resultMessageSchema, miniResult],
  ['SLA', slaSchema, miniSla],
  ['model manifest', modelManifestSchema, miniManifest],
];

const manifests = ['resnet56-fmnist', 'mobilenetv2-fmnist96'].map(
  (id) => JSON.parse(readFileSync(join(REPO_ROOT, 'models', id, 'manifest.json'), 'utf8')) as unknown,
);

const plan = {
  split: 5,
  threshold: 0.9,
  codec: { scheme: 'quant', bits: 8, granularity: 'tensor' },
  reason: 'fastest feasible',
  bits: 8,
  exit: 2,
  policy: 'spinn',
  feasible: true,
  estimate: {
    latencyMs: 12,
    throughputRps: 80,
    deviceCostMs: 4,
    serverCostMs: 6,
    accuracy: 0.93,
    offloadProbability: 0.3,
    uploadBytes: 2048,
  },
  seen: {
    deviceScale: 1.2,
    bandwidthBps: 1e6,
    rttMs: 20,
    offloadOverheadMs: -2,
    serverScale: 1,
    serverLoad: 0.5,
    serverAvailable: true,
  },
};

const result: ResultMessage = {
  v: PROTOCOL_VERSION,
  requestId: 'abcdefgh1234',
  status: 'done',
  exit: 3,
  label: 7,
  confidence: 0.97,
  serverMs: 4.5,
  queueMs: 0.25,
  blocksRun: 12,
  error: 'none',
  plan: plan as ResultMessage['plan'],
  load: { busy: 1, queued: 0, workers: 2 },
};

const sla = {
  limits: { maxLatencyMs: 150, maxAccuracyLossPp: 0.5, minThroughputRps: 3 },
  priority: ['latency', 'serverCost'],
  tolerance: 0.05,
  policy: 'edgent',
};

/** Values a mutation puts in place of a field: every JSON type, edges of the ranges the schemas state. */
const REPLACEMENTS: unknown[] = [
  undefined,
  null,
  -1,
  0,
  0.5,
  1,
  1.5,
  33,
  101,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  'quant',
  'a'.repeat(70),
  'abcdefgh-_12',
  true,
  [],
  ['latency', 'latency'],
  {},
  new Uint8Array(2),
];

/**
 * (path, value) mutations of `value`, descending into the first two items of arrays: every one, or every
 * `stride`-th (a fixed, deterministic sample) for large values.
 */
function* mutations(value: unknown, stride = 1): Generator<unknown> {
  let n = 0;
  const paths: Array<Array<string | number>> = [];
  const walk = (node: unknown, path: Array<string | number>) => {
    paths.push(path);
    if (Array.isArray(node)) node.slice(0, 2).forEach((v, i) => walk(v, [...path, i]));
    else if (node && typeof node === 'object' && !(node instanceof Uint8Array))
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(value, []);
  for (const path of paths) {
    for (const replacement of [...REPLACEMENTS, 'extra-key']) {
      if (n++ % stride !== 0) continue;
      const copy = structuredClone(value) as Record<string | number, unknown>;
      if (path.length === 0) {
        if (replacement === 'extra-key') yield { ...copy, unknownField: 1 };
        else yield replacement;
        continue;
      }
      let parent = copy;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (replacement === 'extra-key') {
        const target = parent[last];
        if (target && typeof target === 'object' && !Array.isArray(target))
          (target as Record<string, unknown>).unknownField = 1;
        else continue;
      } else if (replacement === undefined && !Array.isArray(parent)) delete parent[last];
      else parent[last] = replacement;
      yield copy;
    }
  }
}

/** What a parser did with an input: its output, or its error's class and message. */
function outcome(parse: () => unknown): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: parse() };
  } catch (e) {
    return { ok: false, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

describe('client/checks: zod/mini mirrors of core’s schemas', () => {
  for (const [name, full, mini] of pairs) {
    it(`${name}: the same JSON Schema, input and output`, () => {
      expect(jsonSchema(mini, 'input')).toEqual(jsonSchema(full, 'input'));
      expect(jsonSchema(mini, 'output')).toEqual(jsonSchema(full, 'output'));
    });
  }

  it('the samples are valid, so the mutations below start from real values', () => {
    for (const m of manifests) expect(() => parseManifest(m)).not.toThrow();
    expect(planSchema.parse(plan)).toEqual(plan);
    expect(decodeResult(encodeMessage(result))).toEqual(result);
    expect(parseSla(sla)).toEqual(sla);
  });

  it('SLA: the same output or the same SlaError on every mutation', () => {
    let compared = 0;
    for (const input of [undefined, {}, ...mutations(sla)]) {
      expect(outcome(() => clientParseSla(input))).toEqual(outcome(() => parseSla(input)));
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('plan: the same verdict and output on every mutation', () => {
    for (const input of mutations(plan)) {
      const full = outcome(() => planSchema.parse(input));
      const lean = outcome(() => parsePlan(input));
      if (full.ok) expect(lean).toEqual(full);
      else expect(lean.ok).toBe(false);
      const [fullIssues, leanIssues] = [
        planSchema.safeParse(input),
        miniPlan.safeParse(input, PARSE_OPTIONS),
      ];
      expect(leanIssues.error?.issues).toEqual(fullIssues.error?.issues);
    }
  });

  it('result message: the same result or the same WireError on every mutation, through msgpack', () => {
    let compared = 0;
    for (const input of mutations(result)) {
      if (!input || typeof input !== 'object' || Array.isArray(input) || input instanceof Uint8Array)
        continue;
      const body = encodeMessage(input as ResultMessage);
      expect(outcome(() => clientDecodeResult(body))).toEqual(outcome(() => decodeResult(body)));
      compared++;
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('model manifest: the same manifest or the same ManifestError on mutations of both models', () => {
    let compared = 0;
    for (const m of manifests) {
      for (const input of mutations(m, 11)) {
        expect(outcome(() => clientParseManifest(input))).toEqual(outcome(() => parseManifest(input)));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });
});
