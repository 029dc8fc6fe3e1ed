// What one offload costs the edge's RequestShard object, timed inside workerd (`npm run bench:shard`, run.ts):
// `n` sequential calls from a route to one shard, as the offload path makes them, against two floors that do no
// more than the platform must: an RPC with the same arguments (callback included) into an object that answers at
// once, and an RPC into an object that makes one storage write (one SQLite transaction). workerd's clock advances
// on I/O, and every call awaits its answer, so the wall time of the loop divided by `n` is the time per call.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../../worker/env.js';
import type { ClaimInput, ClaimReply, FinishInput, RequestShard } from '../../worker/request-state.js';
import { MODES, type Mode } from './modes.js';

export { RequestShard } from '../../worker/request-state.js';

/** Answers a claim-shaped call at once: the floor of an object RPC. */
export class RpcFloor extends DurableObject {
  async claim(_input: ClaimInput, _cancelRoute?: () => void): Promise<ClaimReply> {
    return { kind: 'claimed' };
  }
}

/** Writes one key per call (unconfirmed, as the claim does): the floor of an RPC and one storage transaction. */
export class WriteFloor extends DurableObject {
  async claim(input: ClaimInput): Promise<ClaimReply> {
    await this.ctx.storage.put(`r:${input.requestId}`, input, { allowUnconfirmed: true });
    return { kind: 'claimed' };
  }
}

interface BenchEnv extends Env {
  RPC_FLOOR: DurableObjectNamespace<RpcFloor>;
  WRITE_FLOOR: DurableObjectNamespace<WriteFloor>;
}

/** A finished call's outcome as the route reports it (a split-5 offload the backend answered). */
const FINISH: FinishInput = {
  status: 'done',
  result: { exit: null, label: 3, confidence: 0.93, serverMs: 2.3, queueMs: 0.01, blocksRun: 28 },
};

async function loop(env: BenchEnv, mode: Mode, n: number, round: string): Promise<number> {
  const ns =
    mode === 'rpc-floor' ? env.RPC_FLOOR : mode === 'write-floor' ? env.WRITE_FLOOR : env.REQUEST_STATE;
  // The floors answer `claim` as the shard does; `finish` is called on the shard only.
  const stub = ns.get(ns.idFromName('shard-0')) as unknown as DurableObjectStub<RequestShard>;
  const backend = { name: 'backend-0', url: 'http://127.0.0.1:9', kind: 'spinn' as const };
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const requestId = `shard-cost-${mode}-${round}-${i}`;
    const input = {
      requestId,
      owner: 'bench',
      modelId: 'resnet56-fmnist',
      split: 5,
      threshold: 0.85,
      backend,
    };
    const reply = await stub.claim(input, () => undefined);
    if (reply.kind !== 'claimed') throw new Error(`${mode}: ${requestId} was not claimed (${reply.kind})`);
    if (mode === 'offload') await stub.finish(requestId, FINISH);
  }
  return (Date.now() - t0) / n;
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return new Response('ok');
    const mode = url.searchParams.get('mode') as Mode;
    if (!MODES.includes(mode))
      return new Response(`mode must be one of ${MODES.join(', ')}`, { status: 400 });
    const n = Number(url.searchParams.get('n') ?? 500);
    const round = url.searchParams.get('round') ?? '0';
    return Response.json({ mode, n, msPerCall: await loop(env, mode, n, round) });
  },
};
