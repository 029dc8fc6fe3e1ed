// The RequestShard object that holds a request id's record (worker/request-shard.ts says which shard), for the
// routes. Kept apart from the object's class so the routes import no `cloudflare:workers` at run time.

import type { Env, WorkerConfig } from './env.js';
import { shardName, shardOf } from './request-shard.js';

/**
 * Each shard's object id, derived once per isolate: `idFromName` hashes the name on every call, and ids (unlike
 * stubs, which belong to the request that made them) may be kept across requests.
 */
const ids = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

/** The shard object that holds `requestId`'s record. */
export function requestStateFor(env: Env, config: Pick<WorkerConfig, 'requestShards'>, requestId: string) {
  const ns = env.REQUEST_STATE;
  const name = shardName(shardOf(requestId, config.requestShards));
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(name);
  if (!id) byName.set(name, (id = ns.idFromName(name)));
  return ns.get(id);
}
