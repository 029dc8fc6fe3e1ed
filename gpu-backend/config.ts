// Configuration of the inference backend: every knob is a command-line flag with an environment-variable fallback
// (flag > env > default), parsed and range-checked here once, so the rest of the backend gets one typed object and
// never reads process.env itself. `--help` prints the documented list.

import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_BACKEND_MAX_BODY_BYTES } from '../core/wire.js';
import {
  MAX_BATCH_DELAY_MS,
  MAX_BATCH_LIMIT,
  parseBatchDelay,
  parseMaxBatch,
  parseModelBatching,
  type BatchingConfig,
} from './batching.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

export type ProviderChoice = 'auto' | 'cuda' | 'cpu';

export interface BackendConfig {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** A folder holding `<id>/manifest.json` model folders, or one model folder itself. */
  modelsDir: string;
  /** Serve only these model ids (all found when empty). */
  modelIds: string[];
  /** Inference worker threads; each holds its own sessions and runs one request at a time. */
  workers: number;
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /** Whether intra-op threads spin-wait between runs (only matters with threads > 1). */
  spinning: boolean;
  /** Execution provider: `auto` and `cuda` try CUDA first and fall back to CPU; `cpu` never tries CUDA. */
  provider: ProviderChoice;
  /** Bearer token the caller (the edge worker) must send; null disables the check (development only). */
  token: string | null;
  /** Largest request body accepted, bytes (413 above it). */
  maxBodyBytes: number;
  /** Requests allowed to wait for a free worker (503 beyond it). */
  maxQueue: number;
  /** How long a cancel for a request not seen yet is remembered, ms. */
  cancelTtlMs: number;
  /** Most remembered early cancels (oldest forgotten first). */
  maxEarlyCancels: number;
  /** Most request records kept for GET /requests/:id (least recently used dropped). */
  maxRecords: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may finish before they are cancelled, ms. */
  shutdownGraceMs: number;
  /** Dynamic batching limits (null fields: the execution provider's defaults, batching.ts). */
  batching: BatchingConfig;
  /** Least severe level logged (log.ts); `info` includes the access log, `warn` leaves it out. */
  logLevel: LogLevel;
  /** Test hooks (the /test/hold routes): for the test suite only, never in production. */
  testHooks: boolean;
}

/** A parser from batching.ts as a commander argument parser (its Error becomes commander's usage error). */
function checked<T>(parse: (raw: string) => T) {
  return (raw: string): T => {
    try {
      return parse(raw);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}

/**
 * Default workers: one per core, at most 4, each with one intra-op thread. A request is 35 short session runs
 * (28 blocks, 7 exits) of a small CNN, which parallelise better across requests than inside one. Measured on a
 * 2-core host under heavy outside load (load average ~30): 1 worker x 2 threads with spinning intra-op threads
 * took 87-125 ms per request against 4-5 ms for 1 x 1 or for 1 x 2 without spinning, hence spinning is opt-in.
 */
export function defaultWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores));
}

export function buildCommand(): Command {
  const cores = availableParallelism();
  return new Command('spinn-backend')
    .description('SPINN inference backend: finishes offloaded requests (blocks >= split) and answers cancels')
    .addOption(
      new Option('--port <n>', 'TCP port to listen on (0 = any free port)')
        .env('SPINN_BACKEND_PORT')
        .argParser(int(0, 65535))
        .default(8790),
    )
    .addOption(
      new Option('--host <addr>', 'interface to bind').env('SPINN_BACKEND_HOST').default('127.0.0.1'),
    )
    .addOption(
      new Option('--models-dir <path>', 'folder of <id>/manifest.json model folders, or one model folder')
        .env('SPINN_MODELS_DIR')
        .default('models'),
    )
    .addOption(
      new Option('--model <ids>', 'comma-separated model ids to serve')
        .env('SPINN_BACKEND_MODELS')
        .default('', 'every model found'),
    )
    .addOption(
      new Option('--workers <n>', 'inference worker threads (each runs one request at a time)')
        .env('SPINN_BACKEND_WORKERS')
        .argParser(int(1, 256))
        .default(defaultWorkers(cores)),
    )
    .addOption(
      new Option('--threads <n>', 'onnxruntime intra-op threads per session')
        .env('SPINN_BACKEND_THREADS')
        .argParser(int(1, 256))
        .default(1),
    )
    .addOption(
      new Option(
        '--spinning',
        'let intra-op threads spin-wait between runs (with --threads > 1 on dedicated cores only; pathological on shared ones)',
      ).env('SPINN_BACKEND_SPINNING'),
    )
    .addOption(
      new Option('--provider <ep>', 'execution provider; auto and cuda try CUDA first and fall back to CPU')
        .env('SPINN_BACKEND_PROVIDER')
        .choices(['auto', 'cuda', 'cpu'])
        .default('auto'),
    )
    .addOption(
      new Option('--token <secret>', 'bearer token callers must send (unset: no auth, development only)').env(
        'SPINN_BACKEND_TOKEN',
      ),
    )
    .addOption(
      new Option(
        '--max-body-bytes <n>',
        "largest request body accepted, bytes (413 above); keep it above the edge's MAX_OFFLOAD_BYTES",
      )
        .env('SPINN_BACKEND_MAX_BODY_BYTES')
        .argParser(int(1024))
        .default(DEFAULT_BACKEND_MAX_BODY_BYTES),
    )
    .addOption(
      new Option('--max-queue <n>', 'requests allowed to wait for a free worker (503 beyond)')
        .env('SPINN_BACKEND_MAX_QUEUE')
        .argParser(int(0))
        .default(256),
    )
    .addOption(
      new Option('--cancel-ttl-ms <n>', 'how long a cancel for a not-yet-seen request is remembered, ms')
        .env('SPINN_BACKEND_CANCEL_TTL_MS')
        .argParser(int(1))
        .default(60_000),
    )
    .addOption(
      new Option('--max-early-cancels <n>', 'most remembered early cancels (oldest forgotten first)')
        .env('SPINN_BACKEND_MAX_EARLY_CANCELS')
        .argParser(int(1))
        .default(10_000),
    )
    .addOption(
      new Option('--max-records <n>', 'request records kept for GET /requests/:id (LRU)')
        .env('SPINN_BACKEND_MAX_RECORDS')
        .argParser(int(1))
        .default(10_000),
    )
    .addOption(
      new Option(
        '--shutdown-grace-ms <n>',
        'on SIGTERM/SIGINT, time in-flight requests get before being cancelled',
      )
        .env('SPINN_BACKEND_SHUTDOWN_GRACE_MS')
        .argParser(int(0))
        .default(10_000),
    )
    .addOption(
      new Option(
        '--max-batch <n>',
        `most requests of one model run as one batch, 1-${MAX_BATCH_LIMIT} (1 turns batching off)`,
      )
        .env('SPINN_BACKEND_MAX_BATCH')
        .argParser(checked((v) => parseMaxBatch(v)))
        .default(undefined, 'cpu 8, cuda 32'),
    )
    .addOption(
      new Option(
        '--batch-delay-ms <ms>',
        `how long an idle worker waits for a batch to fill, 0-${MAX_BATCH_DELAY_MS} ms`,
      )
        .env('SPINN_BACKEND_BATCH_DELAY_MS')
        .argParser(checked((v) => parseBatchDelay(v)))
        .default(undefined, 'cpu 0, cuda 1'),
    )
    .addOption(
      new Option(
        '--model-batching <spec>',
        'per-model batching, id=maxBatch[:delayMs],... (overrides the two above for that model)',
      )
        .env('SPINN_BACKEND_MODEL_BATCHING')
        .argParser(checked(parseModelBatching)),
    )
    .addOption(
      new Option(
        '--log-level <level>',
        'least severe level logged (info includes one access line per request)',
      )
        .env('SPINN_BACKEND_LOG_LEVEL')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .addOption(
      new Option(
        '--test-hooks',
        'TESTS ONLY, never in production: enable /test/hold, which holds jobs between blocks until released',
      ).env('SPINN_BACKEND_TEST_HOOKS'),
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

interface RawOptions {
  port: number;
  host: string;
  modelsDir: string;
  model: string;
  workers: number;
  threads: number;
  spinning?: boolean;
  provider: ProviderChoice;
  token?: string;
  maxBodyBytes: number;
  maxQueue: number;
  cancelTtlMs: number;
  maxEarlyCancels: number;
  maxRecords: number;
  shutdownGraceMs: number;
  maxBatch?: number;
  batchDelayMs?: number;
  modelBatching?: BatchingConfig['perModel'];
  logLevel: LogLevel;
  testHooks?: boolean;
}

/**
 * Parses flags (`argv` without the node and script entries) with environment fallbacks. Throws commander's
 * CommanderError on bad input or `--help`; main.ts turns that into an exit code.
 */
export function parseConfig(argv: readonly string[] = process.argv.slice(2)): BackendConfig {
  const o = buildCommand()
    .parse([...argv], { from: 'user' })
    .opts<RawOptions>();
  return {
    port: o.port,
    host: o.host,
    modelsDir: o.modelsDir,
    modelIds: o.model
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    workers: o.workers,
    threads: o.threads,
    spinning: o.spinning === true,
    provider: o.provider,
    token: o.token ? o.token : null,
    maxBodyBytes: o.maxBodyBytes,
    maxQueue: o.maxQueue,
    cancelTtlMs: o.cancelTtlMs,
    maxEarlyCancels: o.maxEarlyCancels,
    maxRecords: o.maxRecords,
    shutdownGraceMs: o.shutdownGraceMs,
    batching: {
      maxBatch: o.maxBatch ?? null,
      maxDelayMs: o.batchDelayMs ?? null,
      perModel: o.modelBatching ?? {},
    },
    logLevel: o.logLevel,
    testHooks: o.testHooks === true,
  };
}
