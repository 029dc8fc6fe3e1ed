// Assembles the backend from its configuration (models, worker pool, registries, metrics, Hono app) and serves it
// over HTTP with @hono/node-server; also the orderly shutdown: refuse new offloads, let in-flight ones finish for a
// grace period, cancel what is left, stop the workers, close the listener. main.ts wires this to the process;
// tests call it directly on an ephemeral port.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createApp, type AppState } from './app.js';
import { CancelRegistry } from './cancel-registry.js';
import type { BackendConfig } from './config.js';
import { InferencePool } from './inference-pool.js';
import { createLogger, type Logger } from './log.js';
import { BackendMetrics } from './metrics.js';
import { loadModels } from './model-store.js';
import { RequestRecords } from './request-records.js';

export interface Backend {
  app: Hono;
  pool: InferencePool;
  state: AppState;
  /** Drains for up to `graceMs`, cancels the rest and stops the workers. */
  close(graceMs?: number): Promise<void>;
}

/** Loads the models and starts the workers (resolves once they are warm). */
export async function createBackend(config: BackendConfig, log: Logger = createLogger()): Promise<Backend> {
  const models = loadModels(config.modelsDir, config.modelIds);
  const unknown = Object.keys(config.batching.perModel).filter(
    (id) => !models.some((m) => m.manifest.id === id),
  );
  if (unknown.length) throw new Error(`batching is set for model(s) not served here: ${unknown.join(', ')}`);
  const pool = new InferencePool({
    models,
    workers: config.workers,
    threads: config.threads,
    spinning: config.spinning,
    provider: config.provider,
    maxQueue: config.maxQueue,
    batching: config.batching,
    testHooks: config.testHooks,
    log,
  });
  if (config.testHooks)
    log.warn('test hooks enabled (/test/hold): for the test suite only, never in production');
  await pool.start();
  const stats = pool.stats();
  log[config.provider === 'cuda' && stats.provider !== 'cuda' ? 'warn' : 'info'](
    {
      requested: config.provider,
      provider: stats.provider,
      ...(stats.fallbackReason ? { cudaUnavailable: stats.fallbackReason } : {}),
    },
    'execution provider',
  );
  const state: AppState = { draining: false };
  const app = createApp(
    {
      token: config.token,
      maxBodyBytes: config.maxBodyBytes,
      maxQueue: config.maxQueue,
      testHooks: config.testHooks,
      threads: config.threads,
      requestedProvider: config.provider,
      models,
      pool,
      cancels: new CancelRegistry(config.cancelTtlMs, config.maxEarlyCancels),
      records: new RequestRecords(config.maxRecords),
      metrics: new BackendMetrics(),
      log,
    },
    state,
  );
  let closing: Promise<void> | null = null;
  const close = (graceMs = config.shutdownGraceMs) =>
    (closing ??= (async () => {
      state.draining = true;
      const drained = await pool.drain(graceMs);
      if (!drained) log.warn({ ...pool.stats() }, 'grace period over; cancelling in-flight requests');
      await pool.close();
    })());
  return { app, pool, state, close };
}

/**
 * How long an idle keep-alive connection stays open. Node's default (5 s) lets the server close a pooled connection
 * in the instant the edge reuses it; the edge then reports "Network connection lost" for a request that never
 * arrived (seen as 502s at 64 concurrent senders in `npm run bench:load`). The side that reuses connections must be
 * the one that times them out first, so the server waits longer than any client pool keeps a connection idle.
 */
const KEEP_ALIVE_MS = 65_000;

export interface RunningServer {
  backend: Backend;
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:8790 */
  url: string;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(
  config: BackendConfig,
  log: Logger = createLogger(),
): Promise<RunningServer> {
  const backend = await createBackend(config, log);
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve(
      { fetch: backend.app.fetch, port: config.port, hostname: config.host },
      (info: AddressInfo) => resolve({ server: s as Server, port: info.port }),
    ) as Server;
    s.keepAliveTimeout = KEEP_ALIVE_MS;
    s.headersTimeout = KEEP_ALIVE_MS + 1000;
    s.once('error', reject);
  });
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const s = backend.pool.stats();
  log.info(
    {
      url,
      models: config.modelIds.length ? config.modelIds : '(all found)',
      provider: s.provider,
      workers: s.workers,
      threads: config.threads,
      auth: config.token ? 'bearer' : 'none',
    },
    'backend listening',
  );
  let closing: Promise<void> | null = null;
  const close = (graceMs?: number) =>
    (closing ??= (async () => {
      // New offloads get 503 (with `connection: close`) while in-flight ones finish; the listener closes only
      // after that. Closing it first would also drop idle keep-alive sockets a client may be writing to right now
      // (Node's server.close() does), turning a clean 503 into a connection reset.
      await backend.close(graceMs);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), 1000);
      await closed;
      clearTimeout(forced);
      log.info('backend stopped');
    })());
  return { backend, server, url, port, close };
}

export function authHeader(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
