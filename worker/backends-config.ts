// Which servers this edge sends offloads to, parsed once from its configuration: BACKENDS (SPINN backends, a list of
// `url[;weight=w][;name=n]`), the older BACKEND_URL (the same list with one entry, used only when BACKENDS is unset),
// and OIP_BACKENDS (optional Open Inference Protocol v2 servers, e.g. Triton or KServe, that take a model's
// server-only requests; JSON because each names the models it holds). Nothing is guessed: a missing or malformed
// setting becomes a `problem` the edge answers with (503) instead of a backend picked by default.

import { z } from 'zod';

export interface OipModelSpec {
  /** The model's name on the OIP server (`/v2/models/{model}/infer`). */
  model: string;
  /** Optional model version (`/v2/models/{model}/versions/{version}/infer`). */
  version?: string;
  /** The input tensor's name; default the manifest's input name. */
  input?: string;
  /** The FP32 output holding the class scores, shape [1, classes]; default `probabilities`. */
  output: string;
  /** The output holds logits: the edge applies softmax. Default false (it holds probabilities). */
  softmax: boolean;
  /**
   * Send the request's threshold as the `threshold` request parameter and read the answering exit from an `exit`
   * output (SPINN's own backend does both). Default false: the server runs the whole model, the final exit answers.
   */
  earlyExit: boolean;
}

export interface BackendSpec {
  /** A short label, unique in the fleet: request records show it, logs and /healthz too. Never the URL. */
  name: string;
  /** Base URL without a trailing slash. */
  url: string;
  /** Relative capacity (default 1): a backend of weight 2 is given about twice the requests at equal load. */
  weight: number;
  kind: 'spinn' | 'oip';
  /** OIP servers only: the edge's model ids they hold, and how to call each. */
  models?: Record<string, OipModelSpec>;
}

export interface BackendsConfig {
  backends: BackendSpec[];
  /** Why there is no usable fleet (the edge refuses backend routes with it); null when there is one. */
  problem: string | null;
  /** Something the operator should know that does not stop the edge (BACKEND_URL ignored beside BACKENDS). */
  notice: string | null;
}

const NAME = /^[A-Za-z0-9._-]{1,32}$/;
const MAX_WEIGHT = 1000;
const MAX_BACKENDS = 64;

const SET_IT =
  'Locally set BACKENDS (or BACKEND_URL) in .dev.vars or with --var; deployed, ' +
  '`wrangler secret put BACKENDS --env production` (docs/deploy.md)';

class ConfigProblem extends Error {}

function httpUrl(raw: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigProblem(`${what} ${JSON.stringify(raw)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ConfigProblem(`${what} ${JSON.stringify(raw)} is not an http(s) URL`);
  return raw.replace(/\/+$/, '');
}

function weightOf(raw: unknown, what: string): number {
  const w = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(w) || w <= 0 || w > MAX_WEIGHT)
    throw new ConfigProblem(`${what}: weight ${JSON.stringify(raw)} must be a number in (0, ${MAX_WEIGHT}]`);
  return w;
}

function nameOf(raw: string, what: string): string {
  if (!NAME.test(raw))
    throw new ConfigProblem(`${what}: name ${JSON.stringify(raw)} must be 1-32 of A-Z a-z 0-9 . _ -`);
  return raw;
}

/** One `url[;weight=w][;name=n]` entry of BACKENDS. */
function parseEntry(entry: string, index: number, varName: string): BackendSpec {
  const [rawUrl, ...params] = entry.split(';').map((p) => p.trim());
  const what = `${varName} entry ${index + 1}`;
  const spec: BackendSpec = {
    name: `backend-${index}`,
    url: httpUrl(rawUrl ?? '', what),
    weight: 1,
    kind: 'spinn',
  };
  for (const p of params) {
    const [key, value = ''] = p.split('=').map((s) => s.trim());
    if (key === 'weight') spec.weight = weightOf(value, what);
    else if (key === 'name') spec.name = nameOf(value, what);
    else throw new ConfigProblem(`${what}: unknown parameter ${JSON.stringify(p)} (weight=, name=)`);
  }
  return spec;
}

/** BACKENDS (or BACKEND_URL): entries separated by commas, spaces or newlines. */
function parseSpinnList(raw: string, varName: string): BackendSpec[] {
  const entries = raw.split(/[\s,]+/).filter(Boolean);
  return entries.map((e, i) => parseEntry(e, i, varName));
}

const oipModelSchema = z.union([
  z.string().min(1),
  z.object({
    model: z.string().min(1).max(256),
    version: z.string().min(1).max(64).optional(),
    input: z.string().min(1).max(256).optional(),
    output: z.string().min(1).max(256).default('probabilities'),
    softmax: z.boolean().default(false),
    earlyExit: z.boolean().default(false),
  }),
]);

const oipBackendsSchema = z
  .array(
    z.object({
      url: z.string(),
      name: z.string().optional(),
      weight: z.number().optional(),
      models: z.record(z.string(), oipModelSchema),
    }),
  )
  .max(MAX_BACKENDS);

function parseOipList(raw: string): BackendSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigProblem(`OIP_BACKENDS is not JSON: ${(e as Error).message}`);
  }
  const parsed = oipBackendsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigProblem(`OIP_BACKENDS ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.map((b, i) => {
    const what = `OIP_BACKENDS entry ${i + 1}`;
    const models: Record<string, OipModelSpec> = {};
    for (const [edgeModel, m] of Object.entries(b.models)) {
      models[edgeModel] =
        typeof m === 'string' ? { model: m, output: 'probabilities', softmax: false, earlyExit: false } : m;
    }
    return {
      name: b.name === undefined ? `oip-${i}` : nameOf(b.name, what),
      url: httpUrl(b.url, what),
      weight: b.weight === undefined ? 1 : weightOf(b.weight, what),
      kind: 'oip' as const,
      models,
    };
  });
}

function checkUnique(backends: BackendSpec[]): void {
  const names = new Set<string>();
  for (const b of backends) {
    if (names.has(b.name)) throw new ConfigProblem(`backend name ${JSON.stringify(b.name)} is used twice`);
    names.add(b.name);
  }
  if (backends.length > MAX_BACKENDS) throw new ConfigProblem(`more than ${MAX_BACKENDS} backends`);
}

export interface BackendsVars {
  BACKENDS?: string | undefined;
  BACKEND_URL?: string | undefined;
  OIP_BACKENDS?: string | undefined;
}

function parse(vars: BackendsVars): BackendsConfig {
  const list = (vars.BACKENDS ?? '').trim();
  const single = (vars.BACKEND_URL ?? '').trim();
  const notice = list && single ? 'BACKEND_URL is ignored: BACKENDS is set and lists every backend' : null;
  try {
    const spinn = list
      ? parseSpinnList(list, 'BACKENDS')
      : single
        ? parseSpinnList(single, 'BACKEND_URL')
        : [];
    if (!spinn.length) {
      return { backends: [], problem: `BACKENDS is not set: this edge has no backend. ${SET_IT}`, notice };
    }
    const oip = (vars.OIP_BACKENDS ?? '').trim() ? parseOipList(vars.OIP_BACKENDS!) : [];
    const backends = [...spinn, ...oip];
    checkUnique(backends);
    return { backends, problem: null, notice };
  } catch (e) {
    if (e instanceof ConfigProblem) return { backends: [], problem: e.message, notice };
    throw e;
  }
}

// readConfig runs several times per request: parse each distinct setting once per isolate.
let last: { key: string; value: BackendsConfig } | null = null;

export function readBackends(vars: BackendsVars): BackendsConfig {
  const key = JSON.stringify([vars.BACKENDS ?? '', vars.BACKEND_URL ?? '', vars.OIP_BACKENDS ?? '']);
  if (last?.key !== key) last = { key, value: parse(vars) };
  return last.value;
}

/** The OIP server entries that hold `modelId`, for its server-only requests (empty: SPINN backends take them). */
export function oipBackendsFor(backends: readonly BackendSpec[], modelId: string): BackendSpec[] {
  return backends.filter((b) => b.kind === 'oip' && b.models?.[modelId] !== undefined);
}
