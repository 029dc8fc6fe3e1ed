// The Node/V8 flags the backend process runs with, in one place: the stack launcher (harness/stack.ts), the npm
// script, the systemd unit and bench:backend's ceiling all start their processes with these (a unit test keeps the
// npm script and the unit in step). They must be on the command line: V8 crashes if its GC mode changes at run time.
//
// --single-threaded-gc: V8 otherwise marks, sweeps and scavenges with helper threads (4 here) that spin-wait on one
// another, like onnxruntime's intra-op threads (config.ts). With the inference workers keeping the cores busy they
// only burn CPU: on this 2-core host under load, 2 workers, batching on, it cut the backend's CPU per request from
// 3.01 to 2.16 ms (whole model) and 0.80 to 0.72 ms (split 20), and raised throughput at 32 clients 36 % and 20 %
// (interleaved A/B, 4 rounds, every round the same way). The heaps are small (10-60 MB), so pauses stay short.
//
// --initial-old-space-size=64 (MB, per isolate: the main thread and each inference worker): V8 starts a worker's
// old generation just above its live size (about 11 MB), and the typed arrays a batch walks through (onnxruntime's
// output tensors, the batch's inputs) kept it hitting that limit: about 8 full mark-compacts per second per worker
// at 32 clients, mid-network (`--trace-gc`), 12-15 % of the worker's CPU samples. With room to grow, none ran in 8 s
// of load, and the workers' CPU per request fell 0.50 → 0.41 ms (split 20) and 1.88 → 1.66 ms (whole model) in an
// interleaved A/B (bench/backend/profile-threads.ts). The cost: each heap may grow to 64 MB before its first full GC.

export const BACKEND_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--initial-old-space-size=64'];

/** Whether this process runs with them (the backend logs it at start). */
export function hasBackendNodeFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return BACKEND_NODE_FLAGS.every((f) => execArgv.includes(f));
}
