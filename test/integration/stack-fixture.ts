// Shared set-up of the full-stack integration tests: the real backend (onnxruntime-node) and the real worker
// under `wrangler dev` (workerd), started once per test file, plus a client on onnxruntime-web and ground truth
// from the original single model.

import { afterAll, beforeAll } from 'vitest';
import { startStack, type BackendOptions, type Stack } from '../../harness/stack.js';
import { SpinnClient, type SpinnClientOptions } from '../../client/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { MODEL_ID, readManifest } from '../client/support/reference.js';
import { loadFmnistTest } from '../client/support/fmnist.js';

export const manifest = readManifest();

/** API keys of the stacks this file started, by edge URL, so `newClient(edgeUrl)` presents the right one. */
const keyByEdge = new Map<string, string>();

export function useStack(
  backend: BackendOptions = {},
  edgeVars?: Record<string, string>,
): { stack: () => Stack } {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack({ backend, ...(edgeVars ? { edgeVars } : {}) });
    keyByEdge.set(stack.edge.url, stack.apiKey);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);
  return {
    stack: () => {
      if (!stack) throw new Error('stack not started');
      return stack;
    },
  };
}

export async function newClient(
  edgeUrl: string,
  over: Partial<SpinnClientOptions> = {},
): Promise<SpinnClient> {
  const apiKey = keyByEdge.get(edgeUrl);
  const client = new SpinnClient({
    edgeUrl,
    ...(apiKey ? { apiKey } : {}),
    modelId: MODEL_ID,
    ort: await loadOrtWebForNode({ numThreads: 1 }),
    followEdgePlan: false,
    ...over,
  });
  await client.load('all');
  return client;
}

/** `count` test images from `offset` (the committed sample suffices). */
export const samples = loadFmnistTest;

export function backendHeaders(stack: Stack): Record<string, string> {
  return { authorization: `Bearer ${stack.token}` };
}

/** A backend request record, polled until it reaches a final status. */
export async function backendRecord(
  stack: Stack,
  requestId: string,
  timeoutMs = 10_000,
): Promise<Record<string, unknown> | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${stack.backend.url}/requests/${requestId}`, { headers: backendHeaders(stack) });
    if (r.status === 404) return null;
    const rec = (await r.json()) as Record<string, unknown>;
    if (!['queued', 'running'].includes(String(rec.status)) || Date.now() > until) return rec;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * The backend's hold gate (started with `testHooks`): every job waits once it has run `afterBlocks` blocks, until
 * `releaseHold` or its cancel. Decides a race by construction: a held server cannot answer first.
 */
export async function holdBackend(stack: Stack, afterBlocks: number): Promise<void> {
  const r = await fetch(`${stack.backend.url}/test/hold`, {
    method: 'POST',
    headers: { ...backendHeaders(stack), 'content-type': 'application/json' },
    body: JSON.stringify({ afterBlocks }),
  });
  if (!r.ok) throw new Error(`hold failed: HTTP ${r.status} ${await r.text()}`);
}

export async function releaseHold(stack: Stack): Promise<void> {
  await fetch(`${stack.backend.url}/test/hold`, { method: 'DELETE', headers: backendHeaders(stack) });
}

/** Resolves once the backend's hold gate holds a job (polls GET /test/hold: an event, not a delay). */
export async function backendHolds(stack: Stack, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${stack.backend.url}/test/hold`, { headers: backendHeaders(stack) });
    const { held } = (await r.json()) as { held: string[] };
    if (held.length > 0) return;
    if (Date.now() > until) throw new Error(`the backend held no job within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
