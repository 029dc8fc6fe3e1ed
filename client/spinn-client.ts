// SpinnClient: the device side of SPINN. It runs the blocks before the split with their early exits on
// onnxruntime-web, offloads the activation to the edge when no exit fired, keeps computing locally while it
// waits, and returns whichever answer comes first — never failing because the network or the server did.

import type { ModelManifest } from '../core/manifest.js';
import { parseSla } from './checks/sla.js';
import {
  runProgressive,
  type ExecutorStep,
  type ProgressiveResult,
  type SessionProvider,
} from '../core/progressive-executor.js';
import { chooseCodec } from '../core/codec-choice.js';
import type { CodecSpec } from '../core/codec-spec.js';
import { checkActivationValues, checkOffloadFields, OffloadError } from '../core/offload-validation.js';
import { specOf } from '../core/tensor-codec.js';
import type { OffloadMessage, Plan } from '../core/wire.js';
import { encodeMessage } from '../core/wire-envelope.js';
import { deviceResult, offloadedResult, type CallBase, type ClassifyResult } from './classify-result.js';
import {
  resolveOptions,
  type ClassifyOptions,
  type ExecutionPlan,
  type ResolvedOptions,
  type SpinnClientOptions,
} from './client-options.js';
import { DeviceScaleEstimator, measureDeviceSample } from './device-scale.js';
import { MemoryModelCache } from './model-cache.js';
import { toModelInput, type ClassifyInput, type ModelInput } from './model-input.js';
import { ModelLoader } from './model-loader.js';
import { edgeModelSource } from './model-source.js';
import { encodeActivation, offloadMessage } from './offload-message.js';
import { refusedOffload, sendCancel, startOffload, type CancelOutcome, type OffloadCall } from './offload.js';
import { importOnnxruntimeWeb, type OrtModule } from './ort-module.js';
import { PlanKeeper } from './plan-keeper.js';
import { PlanResolver } from './plan-resolver.js';
import { raceOffload, type RaceOutcome } from './race.js';
import { newRequestId } from './request-id.js';
import { OrtSessionProvider, yieldingSessions } from './session-provider.js';
import { yieldToEventLoop } from './yield.js';

interface Loaded {
  manifest: ModelManifest;
  sessions: OrtSessionProvider;
}

/** With 'hedge', the server is overdue at this many times its expected answer time. */
const HEDGE_FACTOR = 1.5;

/** One call in progress: what every step of it reads. */
interface Call {
  manifest: ModelManifest;
  sessions: OrtSessionProvider;
  input: ModelInput;
  plan: ExecutionPlan;
  requestId: string;
  signal: AbortSignal | undefined;
  t0: number;
}

export class SpinnClient {
  private readonly o: ResolvedOptions;
  private readonly loader: ModelLoader;
  private loaded: Promise<Loaded> | undefined;
  /** The one owner of plans: configured, scheduled (edge or local) and per call. */
  private readonly plans: PlanResolver;
  /** Calls run one at a time: the device has one set of sessions and one CPU budget. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly background = new Set<Promise<CancelOutcome>>();
  /** Device slowdown vs. the manifest's onnxruntime-web profile, reported to the edge as `context.deviceScale`. */
  private readonly deviceScale = new DeviceScaleEstimator();
  /** Running total of the time spent in blocks and exits (the plan keeper subtracts it from round trips). */
  private busyMs = 0;
  /** With an SLA option: the scheduler state (profiler, current scheduled plan). */
  private readonly keeper: PlanKeeper | undefined;

  /** Outcomes of the DELETEs sent so far, newest last (bounded), for diagnostics. */
  readonly cancels: { requestId: string; outcome: CancelOutcome }[] = [];

  constructor(private readonly options: SpinnClientOptions) {
    const o = (this.o = resolveOptions(options));
    this.plans = new PlanResolver(options.plan, o.followEdgePlan);
    this.loader = new ModelLoader({
      modelId: o.modelId,
      source: options.modelSource ?? edgeModelSource(o.edgeUrl, o.modelId, options.modelBaseUrl),
      fetch: o.fetch,
      cache: options.cache ?? new MemoryModelCache(),
      ...(o.headers ? { headers: o.headers } : {}),
    });
    this.keeper =
      options.sla !== undefined
        ? new PlanKeeper({
            sla: parseSla(options.sla),
            resolver: this.plans,
            edgeUrl: o.edgeUrl,
            modelId: o.modelId,
            fetch: o.fetch,
            ...(o.headers ? { headers: o.headers } : {}),
            refreshEvery: o.planRefreshEvery,
            deviceDrift: o.planDeviceDrift,
            timeoutMs: o.offloadTimeoutMs,
            now: o.now,
            // Block time only hides inside a round trip when blocks run on the thread that reads the response.
            ...(o.computeOffThread ? {} : { busyMs: () => this.busyMs }),
          })
        : undefined;
  }

  /** With an SLA: the scheduled plan in force and where it came from. */
  get scheduledPlan(): { plan: Plan; source: 'edge' | 'local' } | undefined {
    return this.keeper ? this.plans.scheduled : undefined;
  }

  /**
   * Loads the manifest, the runtime and the sessions the `preload` option names (every call does this first; call
   * it early to keep the load out of the first answer's latency). `preload` here adds sessions to load now.
   */
  async load(preload: 'none' | 'device' | 'all' = 'none'): Promise<ModelManifest> {
    const { manifest, sessions } = await this.ensureLoaded();
    await this.preload(preload, manifest, sessions);
    return manifest;
  }

  private async preload(what: 'none' | 'device' | 'all', manifest: ModelManifest, s: OrtSessionProvider) {
    if (what === 'none') return;
    const n = manifest.blocks.length;
    const to =
      what === 'all' ? n : Math.max(0, Math.min(n, Math.trunc(this.plans.current(manifest).split) || 0));
    await s.preload(0, to);
    if (this.o.warmup && to > 0) {
      const shape = manifest.input.shape.map((d, i) => (i === 0 || d < 0 ? 1 : d));
      await runProgressive({
        manifest,
        sessions: s,
        createTensor: s.createTensor,
        input: new Float32Array(shape.reduce((a, b) => a * b, 1)),
        inputShape: shape,
        fromBlock: 0,
        toBlock: to,
        threshold: 1, // no early exit: every head runs once
      });
    }
  }

  /** The manifest, once loaded. */
  async manifest(): Promise<ModelManifest> {
    return (await this.ensureLoaded()).manifest;
  }

  /** The plan the next call without a plan of its own will run (the edge's suggestion when followed). */
  async plan(): Promise<ExecutionPlan> {
    return this.plans.current((await this.ensureLoaded()).manifest);
  }

  /**
   * Classifies one image: raw 8-bit pixels of the manifest's `sourceSize` (28×28 here) or a preprocessed
   * Float32Array of the model's input size. Rejects only for programmer errors (bad input or plan) and a model
   * that cannot be loaded; network and server failures end in a device answer (`decidedBy: 'device-fallback'`).
   * `options.signal` stops the call (see ClassifyOptions.signal).
   */
  classify(input: ClassifyInput, options: ClassifyOptions = {}): Promise<ClassifyResult> {
    const run = this.queue.then(() => this.classifyNow(input, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every background cancel has finished (each is bounded by `cancelTimeoutMs`). */
  async whenIdle(): Promise<void> {
    await this.keeper?.whenIdle();
    while (this.background.size) await Promise.all([...this.background]);
  }

  /** Waits for background work and releases the sessions; the client can load again afterwards. */
  async dispose(): Promise<void> {
    await this.queue;
    await this.whenIdle();
    const loaded = this.loaded;
    this.loaded = undefined;
    if (loaded) await loaded.then((l) => l.sessions.release()).catch(() => undefined);
  }

  private ensureLoaded(): Promise<Loaded> {
    this.loaded ??= (async () => {
      const [manifest, ort] = await Promise.all([this.loader.manifest(), this.runtime()]);
      const sessions = new OrtSessionProvider(manifest, this.loader, ort, this.o.sessionOptions);
      await this.preload(this.o.preload, manifest, sessions);
      await this.keeper?.requestPlan(manifest, this.deviceScale.current);
      return { manifest, sessions };
    })().catch((e: unknown) => {
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async runtime(): Promise<OrtModule> {
    const ort = this.options.ort ?? (await importOnnxruntimeWeb());
    if (this.options.wasmNumThreads !== undefined) ort.env.wasm.numThreads = this.options.wasmNumThreads;
    if (this.options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = this.options.wasmPaths;
    if (this.options.wasmProxy !== undefined) ort.env.wasm.proxy = this.options.wasmProxy;
    return ort;
  }

  private cancelAtEdge(requestId: string): void {
    const p = sendCancel({
      url: `${this.o.edgeUrl}/v1/requests/${encodeURIComponent(requestId)}`,
      fetch: this.o.fetch,
      timeoutMs: this.o.cancelTimeoutMs,
      ...(this.o.headers ? { headers: this.o.headers } : {}),
    }).then(
      (outcome) => {
        this.cancels.push({ requestId, outcome });
        if (this.cancels.length > 100) this.cancels.shift();
        return outcome;
      },
      (e: unknown): CancelOutcome => ({ ok: false, error: String(e) }), // sendCancel never rejects; belt and braces
    );
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  private async classifyNow(input: ClassifyInput, options: ClassifyOptions): Promise<ClassifyResult> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const { manifest, sessions } = await this.ensureLoaded();
    const x = toModelInput(input, manifest);
    // One event-loop turn per call: wasm compute resolves as microtasks, so back-to-back calls that never offload
    // would otherwise starve network I/O — a background plan refresh (or cancel) would never be read.
    await yieldToEventLoop();
    signal?.throwIfAborted();
    this.keeper?.onCall(manifest, this.deviceScale.current);
    const scheduled = this.plans.scheduled;
    const plan = this.plans.forCall(manifest, options.plan);
    const call: Call = {
      manifest,
      sessions,
      input: x,
      plan,
      requestId: newRequestId(),
      signal,
      t0: this.o.now(),
    };

    const { before, deviceScale } = await this.runDevice(call);
    const reported = this.keeper?.context(this.deviceScale.current);
    const base: CallBase = {
      requestId: call.requestId,
      plan: { ...plan },
      ...(this.keeper && scheduled && reported ? { schedule: { ...scheduled, context: reported } } : {}),
      deviceMs: before.computeMs,
      deviceBlocks: before.blocksRun,
      t0: call.t0,
    };
    if (before.outcome.kind === 'exit') return deviceResult(manifest, base, before.outcome, this.o.now());
    if (before.outcome.kind !== 'split') throw new Error('device run was cancelled without a cancel flag');
    return this.offloadAndRace(call, base, before.outcome, deviceScale);
  }

  /** A step hook that counts busy time, keeps the device's steps and reports every step to `onStep`. */
  private steps(call: Call, phase: 'device' | 'after-split', keep?: ExecutorStep[]) {
    const onStep = this.options.onStep;
    return (s: ExecutorStep) => {
      this.busyMs += s.ms;
      keep?.push(s);
      onStep?.({ ...s, phase, requestId: call.requestId });
    };
  }

  /** The options every progressive run of a call shares. */
  private runOptions(call: Call) {
    return {
      manifest: call.manifest,
      createTensor: call.sessions.createTensor,
      threshold: call.plan.threshold,
      ...(call.plan.exit !== undefined ? { onlyExit: call.plan.exit } : {}),
      now: this.o.now,
    };
  }

  /**
   * The device's blocks before the split, with their exits. While a plan refresh or a cancel is in flight they
   * yield between blocks, so its answer is read within a block: a refresh read only after a whole device-only run
   * would measure that run as network latency, and a slow device would then judge every offload too slow.
   */
  private async runDevice(
    call: Call,
  ): Promise<{ before: ProgressiveResult; deviceScale: number | undefined }> {
    const deviceSteps: ExecutorStep[] = [];
    const start = this.o.now();
    const networkPending = () => this.background.size > 0 || this.keeper?.refreshPending === true;
    const signal = call.signal;
    const before = await runProgressive({
      ...this.runOptions(call),
      sessions: yieldingSessions(call.sessions, yieldToEventLoop, networkPending),
      input: call.input.values,
      inputShape: call.input.shape,
      fromBlock: 0,
      toBlock: call.plan.split,
      ...(signal ? { isCancelled: () => signal.aborted } : {}),
      onStep: this.steps(call, 'device', deviceSteps),
    });
    signal?.throwIfAborted();
    const sample = measureDeviceSample(deviceSteps, call.manifest, this.o.now() - start);
    return { before, deviceScale: this.deviceScale.add(sample) };
  }

  /** The codec of the call's offload: the plan's, or the accuracy-aware choice for its split and threshold. */
  private codecFor(call: Call): CodecSpec {
    if (call.plan.codec) return call.plan.codec;
    return chooseCodec({
      manifest: call.manifest,
      split: call.plan.split,
      threshold: call.plan.threshold,
      ...(this.options.accuracyBudgetPp !== undefined
        ? { accuracyBudgetPp: this.options.accuracyBudgetPp }
        : {}),
    }).codec;
  }

  /** Encodes and sends the offload (or refuses it, when core's rules would), then races it (SPINN's rule). */
  private async offloadAndRace(
    call: Call,
    base: CallBase,
    activation: { values: Float32Array; shape: number[] },
    deviceScale: number | undefined,
  ): Promise<ClassifyResult> {
    const tEncode = this.o.now();
    const tensor = encodeActivation(this.codecFor(call), activation, call.input.pixels, this.o.deflate);
    base.plan.codec = specOf(tensor.codec);
    const replan = this.keeper?.replanFields(deviceScale);
    const message = offloadMessage({
      requestId: call.requestId,
      modelId: call.manifest.id,
      plan: call.plan,
      tensor,
      ...(replan ? { replan: { ...replan, context: { ...replan.context, deviceMs: base.deviceMs } } } : {}),
      ...(this.o.debug ? { debug: true } : {}),
    });
    const body = encodeMessage(message);
    const encodeMs = this.o.now() - tEncode;
    const offload = this.send(call, message, body, activation.values);
    const race = await this.race(call, offload, activation, body.byteLength);
    const server = race.server?.kind === 'result' ? race.server : undefined;
    if (this.keeper && server) {
      this.keeper.onResult(call.manifest, {
        split: call.plan.split,
        bodyBytes: body.byteLength,
        roundTripMs: server.roundTripMs,
        message: server.message,
      });
    } else if (this.keeper && race.server?.kind === 'error' && race.server.reason !== 'aborted') {
      this.keeper.onOffloadFailure(call.manifest, this.deviceScale.current);
    }
    if (race.winner === 'local' && race.abandoned) this.cancelAtEdge(call.requestId);
    const nextPlan = server?.message.plan ?? undefined;
    // Without an SLA a plan arrives only from an edge that plans for its own reasons; it is followed the same way.
    if (!this.keeper) this.plans.adopt(nextPlan, 'edge', call.manifest);
    return offloadedResult(call.manifest, base, {
      bytesSent: body.byteLength,
      encodeMs,
      race,
      ...(nextPlan ? { nextPlan } : {}),
    });
  }

  /**
   * POST /v1/infer, unless the edge's own rules (checked on what is about to leave; no decode, the values are at
   * hand) would refuse it — a non-finite activation from a broken model file, a plan for a split the model lacks:
   * then nothing is sent and the device finishes alone.
   */
  private send(call: Call, message: OffloadMessage, body: Uint8Array, values: Float32Array): OffloadCall {
    const refusal = offloadRefusal(call.manifest, message, values);
    if (refusal) return refusedOffload(refusal);
    return startOffload({
      url: `${this.o.edgeUrl}/v1/infer`,
      body,
      requestId: call.requestId,
      classes: call.manifest.classes.length,
      exits: call.manifest.exits.length,
      fetch: this.o.fetch,
      timeoutMs: this.o.offloadTimeoutMs,
      now: this.o.now,
      ...(this.o.headers ? { headers: this.o.headers } : {}),
    });
  }

  /**
   * Races the server against the local continuation after the split. An abort of the call's signal aborts the
   * offload and cancels it at the edge, stops the local run at its next block, and rejects with the signal's reason.
   */
  private async race(
    call: Call,
    offload: OffloadCall,
    activation: { values: Float32Array; shape: number[] },
    bytes: number,
  ): Promise<RaceOutcome> {
    const { manifest, plan, signal } = call;
    const continuation = this.o.localContinuation;
    const expectedMs =
      continuation === 'hedge' ? this.keeper?.expectedAnswerMs(manifest, plan.split, bytes) : undefined;
    const onAbort = () => {
      offload.abort();
      this.cancelAtEdge(call.requestId);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const local: SessionProvider = yieldingSessions(call.sessions, yieldToEventLoop);
    try {
      return await raceOffload({
        offload,
        continuation,
        ...(expectedMs !== undefined ? { hedgeAfterMs: HEDGE_FACTOR * expectedMs } : {}),
        now: this.o.now,
        runLocal: (isCancelled) =>
          runProgressive({
            ...this.runOptions(call),
            sessions: local,
            input: activation.values,
            inputShape: activation.shape,
            fromBlock: plan.split,
            toBlock: manifest.blocks.length,
            isCancelled: () => isCancelled() || signal?.aborted === true,
            onStep: this.steps(call, 'after-split'),
          }),
      });
    } catch (e) {
      signal?.throwIfAborted();
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      signal?.throwIfAborted();
    }
  }
}

/** Why core's offload rules refuse this offload, or undefined when it may be sent. */
function offloadRefusal(
  manifest: ModelManifest,
  message: OffloadMessage,
  values: Float32Array,
): string | undefined {
  try {
    checkOffloadFields(manifest, message);
    checkActivationValues(values);
    return undefined;
  } catch (e) {
    if (e instanceof OffloadError) return `offload not sent: ${e.message}`;
    throw e;
  }
}
