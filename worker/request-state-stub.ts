// The RequestShard object that holds a request id's record (worker/request-shard.ts says which shard), for the
// routes. Kept apart from the object's class so the routes import no `cloudflare:workers` at run time.

import type { Env, WorkerConfig } from './env.js';
import { shardName, shardOf } from './request-shard.js';

/** The shard object that holds `requestId`'s record. */
export function requestStateFor(env: Env, config: Pick<WorkerConfig, 'requestShards'>, requestId: string) {
  const ns = env.REQUEST_STATE;
  return ns.get(ns.idFromName(shardName(shardOf(requestId, config.requestShards))));
}
