// Dynamic batching limits per model: how many requests one batch may hold and how long an idle worker waits for a
// batch to fill. Set globally (`--max-batch`, `--batch-delay-ms`), per model (`--model-batching`), or left to the
// defaults of the execution provider the worker got, which is only known once the workers have started (`auto`
// falls back to CPU): this file holds those defaults, the parser of the per-model setting and the resolution.

/** Limits of one model's batches. */
export interface BatchLimits {
  /** Most requests run together (1 = no batching). */
  maxBatch: number;
  /** How long a worker with nothing to do waits for a batch to fill before it runs what is queued, ms. */
  maxDelayMs: number;
}

export interface BatchingConfig {
  /** For every model without its own setting; null: the provider's default. */
  maxBatch: number | null;
  maxDelayMs: number | null;
  /** Per model id; fields left out fall back to the global setting, then to the provider's default. */
  perModel: Record<string, Partial<BatchLimits>>;
}

export const NO_BATCHING_OVERRIDES: BatchingConfig = { maxBatch: null, maxDelayMs: null, perModel: {} };

/** Largest batch any setting may ask for (the per-worker cancel block holds this many jobs at most). */
export const MAX_BATCH_LIMIT = 256;
export const MAX_BATCH_DELAY_MS = 1000;

/**
 * Defaults per provider. CPU: the model is compute-bound, so a batch only amortises per-run overheads: CPU time per
 * image falls 1.37x from batch 1 to 8 for whole-model requests and 1.20x mid-network (split 20), and only 1.39x and
 * 1.29x at 32 (`npm run bench:backend -- --sweep`, gpu-backend/README.md), while a batch of 32 holds its worker four
 * times as long as one of 8 for a request that arrives just after it started. So 8, and never wait for a batch to
 * fill: under load one fills from the queue while the workers are busy. CUDA: a batch of 32 costs a GPU about as
 * much as one request, so an idle worker waits up to 1 ms for it to fill.
 */
export const DEFAULT_BATCH_LIMITS: Record<'cpu' | 'cuda', BatchLimits> = {
  cpu: { maxBatch: 8, maxDelayMs: 0 },
  cuda: { maxBatch: 32, maxDelayMs: 1 },
};

export function resolveBatchLimits(
  config: BatchingConfig,
  modelId: string,
  provider: 'cpu' | 'cuda',
): BatchLimits {
  const own = config.perModel[modelId] ?? {};
  const d = DEFAULT_BATCH_LIMITS[provider];
  return {
    maxBatch: own.maxBatch ?? config.maxBatch ?? d.maxBatch,
    maxDelayMs: own.maxDelayMs ?? config.maxDelayMs ?? d.maxDelayMs,
  };
}

function checkedNumber(raw: string, what: string, min: number, max: number, integer: boolean): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(
      `${what} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

export const parseMaxBatch = (raw: string, what = 'max batch') =>
  checkedNumber(raw, what, 1, MAX_BATCH_LIMIT, true);
export const parseBatchDelay = (raw: string, what = 'batch delay (ms)') =>
  checkedNumber(raw, what, 0, MAX_BATCH_DELAY_MS, false);

/**
 * Parses `id=maxBatch[:delayMs],...` (either number may be empty: `a=:2` sets only the delay). Throws an Error
 * naming the bad entry.
 */
export function parseModelBatching(spec: string): Record<string, Partial<BatchLimits>> {
  const out: Record<string, Partial<BatchLimits>> = {};
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+)=([^:]*)(?::(.*))?$/.exec(entry);
    if (!m) throw new Error(`model batching entry ${JSON.stringify(entry)} is not id=maxBatch[:delayMs]`);
    const [, id, batch, delay] = m;
    if (out[id!]) throw new Error(`model ${id} appears twice in the model batching setting`);
    const limits: Partial<BatchLimits> = {};
    if (batch) limits.maxBatch = parseMaxBatch(batch, `max batch of ${id}`);
    if (delay) limits.maxDelayMs = parseBatchDelay(delay, `batch delay of ${id}`);
    if (!batch && !delay) throw new Error(`model batching entry ${JSON.stringify(entry)} sets nothing`);
    out[id!] = limits;
  }
  return out;
}
