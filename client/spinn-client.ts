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
import { encodePixels, encodeTensor, specOf, type EncodedTensor } from '../core/tensor-codec.js';
import type { OffloadMessage, Plan } from '../core/wire.js';
import { encodeMessage, PROTOCOL_VERSION } from '../core/wire-envelope.js';
import type { ClassifyResult, DecidedBy } from './classify-result.js';
import {
  DEFAULT_CANCEL_TIMEOUT_MS,
  DEFAULT_OFFLOAD_TIMEOUT_MS,
  DEFAULT_SESSION_OPTIONS,
  DEFAULT_THRESHOLD,
  type ClassifyOptions,
  type ExecutionPlan,
  type SpinnClientOptions,
} from './client-options.js';
import { DeviceScaleEstimator, measureDeviceSample } from './device-scale.js';
import { MemoryModelCache } from './model-cache.js';
import { toModelInput, type ClassifyInput } from './model-input.js';
import { ModelLoader } from './model-loader.js';
import { edgeModelSource, trimTrailingSlash } from './model-source.js';
import { refusedOffload, sendCancel, startOffload, type CancelOutcome } from './offload.js';
import { importOnnxruntimeWeb, type OrtModule } from './ort-module.js';
import { PlanKeeper } from './plan-keeper.js';
import { raceOffload } from './race.js';
import { newRequestId } from './request-id.js';
import { OrtSessionProvider, yieldingSessions } from './session-provider.js';
import { yieldToEventLoop } from './yield.js';

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

interface Loaded {
  manifest: ModelManifest;
  sessions: OrtSessionProvider;
}

/** With 'hedge', the server is overdue at this many times its expected answer time. */
const HEDGE_FACTOR = 1.5;

/**
 * The offload's tensor: the input's uint8 pixels when the codec says `u8` and the caller gave an image (only the
 * input, at split 0, can be pixels); raw fp32 when it says `u8` but the caller passed preprocessed floats.
 */
function encodeOffload(
  codec: CodecSpec,
  activation: { values: Float32Array; shape: number[] },
  pixels: Uint8Array | undefined,
): EncodedTensor {
  if (codec.scheme !== 'u8') return encodeTensor(activation.values, activation.shape, codec);
  return pixels && pixels.length === activation.values.length
    ? encodePixels(pixels, activation.shape)
    : encodeTensor(activation.values, activation.shape, { scheme: 'fp32' });
}

/** Headers for every request to the edge: the caller's extras and the API key as a bearer token. */
function edgeHeaders(o: SpinnClientOptions): Record<string, string> | undefined {
  if (o.apiKey === undefined) return o.headers;
  const rest = Object.fromEntries(
    Object.entries(o.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'authorization'),
  );
  return { ...rest, authorization: `Bearer ${o.apiKey}` };
}

export class SpinnClient {
  private readonly edgeUrl: string;
  private readonly loader: ModelLoader;
  private readonly fetchFn: typeof fetch;
  private readonly edgeHeaders: Record<string, string> | undefined;
  private readonly now: () => number;
  private loaded: Promise<Loaded> | undefined;
  private edgePlan: ExecutionPlan | undefined;
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
    if (!options.edgeUrl) throw new TypeError('SpinnClient: edgeUrl is required');
    if (!options.modelId) throw new TypeError('SpinnClient: modelId is required');
    this.edgeUrl = trimTrailingSlash(options.edgeUrl);
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('SpinnClient: no fetch available; pass options.fetch');
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.edgeHeaders = edgeHeaders(options);
    this.now = options.now ?? defaultNow;
    this.loader = new ModelLoader({
      modelId: options.modelId,
      source: options.modelSource ?? edgeModelSource(this.edgeUrl, options.modelId, options.modelBaseUrl),
      fetch: this.fetchFn,
      cache: options.cache ?? new MemoryModelCache(),
      ...(this.edgeHeaders ? { headers: this.edgeHeaders } : {}),
    });
    this.keeper =
      options.sla !== undefined
        ? new PlanKeeper({
            sla: parseSla(options.sla),
            edgeUrl: this.edgeUrl,
            modelId: options.modelId,
            fetch: this.fetchFn,
            ...(this.edgeHeaders ? { headers: this.edgeHeaders } : {}),
            refreshEvery: options.planRefreshEvery ?? 10,
            deviceDrift: options.planDeviceDrift ?? 0.3,
            timeoutMs: options.offloadTimeoutMs ?? DEFAULT_OFFLOAD_TIMEOUT_MS,
            now: this.now,
            busyMs: () => this.busyMs,
          })
        : undefined;
  }

  /** With an SLA: the scheduled plan in force and where it came from. */
  get scheduledPlan(): { plan: Plan; source: 'edge' | 'local' } | undefined {
    const k = this.keeper;
    return k?.plan && k.source ? { plan: k.plan, source: k.source } : undefined;
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
      what === 'all' ? n : Math.max(0, Math.min(n, Math.trunc(this.currentPlan(manifest).split) || 0));
    await s.preload(0, to);
    if ((this.options.warmup ?? true) && to > 0) {
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
    return this.currentPlan((await this.ensureLoaded()).manifest);
  }

  /**
   * Classifies one image: raw 8-bit pixels of the manifest's `sourceSize` (28×28 here) or a preprocessed
   * Float32Array of the model's input size. Rejects only for programmer errors (bad input or plan) and a model
   * that cannot be loaded; network and server failures end in a device answer (`decidedBy: 'device-fallback'`).
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
      const sessions = new OrtSessionProvider(
        manifest,
        this.loader,
        ort,
        this.options.sessionOptions ?? DEFAULT_SESSION_OPTIONS,
      );
      await this.preload(this.options.preload ?? 'all', manifest, sessions);
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

  private currentPlan(manifest: ModelManifest): ExecutionPlan {
    const configured = {
      split: this.options.plan?.split ?? manifest.blocks.length,
      threshold: this.options.plan?.threshold ?? DEFAULT_THRESHOLD,
      ...(this.options.plan?.codec ? { codec: this.options.plan.codec } : {}),
    };
    const scheduled = this.keeper?.plan;
    if (scheduled && (this.options.followEdgePlan ?? true) && !SpinnClient.planProblem(scheduled, manifest)) {
      return {
        split: scheduled.split,
        threshold: scheduled.threshold,
        codec: scheduled.codec,
        ...(scheduled.exit !== undefined ? { exit: scheduled.exit } : {}),
      };
    }
    return (this.options.followEdgePlan ?? true) && this.edgePlan ? this.edgePlan : configured;
  }

  private static planProblem(plan: ExecutionPlan, manifest: ModelManifest): string | undefined {
    const n = manifest.blocks.length;
    if (!Number.isInteger(plan.split) || plan.split < 0 || plan.split > n) {
      return `split must be an integer in [0, ${n}] (${n} = device-only), got ${plan.split}`;
    }
    if (plan.split < n && !manifest.splits.some((s) => s.split === plan.split)) {
      return `model ${manifest.id} cannot be split after ${plan.split} blocks (see manifest.splits)`;
    }
    if (!Number.isFinite(plan.threshold) || plan.threshold < 0 || plan.threshold > 1) {
      return `threshold must be in [0, 1], got ${plan.threshold}`;
    }
    if (
      plan.exit !== undefined &&
      !(Number.isInteger(plan.exit) && plan.exit >= 0 && plan.exit < manifest.exits.length)
    ) {
      return `exit must be an exit index in [0, ${manifest.exits.length - 1}], got ${plan.exit}`;
    }
    return undefined;
  }

  private adoptEdgePlan(plan: Plan | null | undefined, manifest: ModelManifest): void {
    if (!plan) return;
    const next = {
      split: plan.split,
      threshold: plan.threshold,
      codec: plan.codec,
      ...(plan.exit !== undefined ? { exit: plan.exit } : {}),
    };
    if (!SpinnClient.planProblem(next, manifest)) this.edgePlan = next;
  }

  private cancelAtEdge(requestId: string): void {
    const p = sendCancel({
      url: `${this.edgeUrl}/v1/requests/${encodeURIComponent(requestId)}`,
      fetch: this.fetchFn,
      timeoutMs: this.options.cancelTimeoutMs ?? DEFAULT_CANCEL_TIMEOUT_MS,
      ...(this.edgeHeaders ? { headers: this.edgeHeaders } : {}),
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
    const { manifest, sessions } = await this.ensureLoaded();
    const x = toModelInput(input, manifest);
    // One event-loop turn per call: wasm compute resolves as microtasks, so back-to-back calls that never offload
    // would otherwise starve network I/O — a background plan refresh (or cancel) would never be read.
    await yieldToEventLoop();
    this.keeper?.onCall(manifest, this.deviceScale.current);
    const scheduled =
      this.keeper?.plan && this.keeper.source
        ? { plan: this.keeper.plan, source: this.keeper.source }
        : undefined;
    const current = this.currentPlan(manifest);
    const plan: ExecutionPlan = {
      split: options.plan?.split ?? current.split,
      threshold: options.plan?.threshold ?? current.threshold,
    };
    // A plan's codec applies to its own split: an explicit split without a codec gets the accuracy-aware choice.
    const planCodec = options.plan?.codec ?? (options.plan?.split === undefined ? current.codec : undefined);
    if (planCodec) plan.codec = planCodec;
    // A truncation belongs to the plan that set it: a per-call plan keeps only its own.
    const planExit = options.plan ? options.plan.exit : current.exit;
    if (planExit !== undefined) plan.exit = planExit;
    const problem = SpinnClient.planProblem(plan, manifest);
    if (problem) throw new RangeError(`SpinnClient.classify: ${problem}`);

    const requestId = newRequestId();
    const nBlocks = manifest.blocks.length;
    const t0 = this.now();
    const onStep = this.options.onStep;
    const deviceSteps: ExecutorStep[] = [];
    const stepHook = (phase: 'device' | 'after-split') => ({
      onStep: (s: ExecutorStep) => {
        this.busyMs += s.ms;
        if (phase === 'device') deviceSteps.push(s);
        onStep?.({ ...s, phase, requestId });
      },
    });
    const common = {
      manifest,
      createTensor: sessions.createTensor,
      threshold: plan.threshold,
      ...(plan.exit !== undefined ? { onlyExit: plan.exit } : {}),
      now: this.now,
    };

    // 1. The device's blocks, with their exits. While a plan refresh or a cancel is in flight they yield between
    // blocks, so its answer is read within a block: a refresh read only after a whole device-only run would
    // measure that run as network latency, and a slow device would then judge every offload too slow.
    const deviceStart = this.now();
    const networkPending = () => this.background.size > 0 || this.keeper?.refreshPending === true;
    const before = await runProgressive({
      ...common,
      sessions: yieldingSessions(sessions, yieldToEventLoop, networkPending),
      input: x.values,
      inputShape: x.shape,
      fromBlock: 0,
      toBlock: plan.split,
      ...stepHook('device'),
    });
    const deviceWallMs = this.now() - deviceStart;
    const reported = this.keeper?.context(this.deviceScale.current);
    const base = {
      requestId,
      plan: { ...plan },
      ...(scheduled && reported ? { schedule: { ...scheduled, context: reported } } : {}),
      timings: {
        deviceMs: before.computeMs,
        localAfterSplitMs: 0,
        encodeMs: 0,
        uploadMs: null,
        roundTripMs: null,
        serverMs: null,
        queueMs: null,
        totalMs: 0,
      },
    };
    const answer = (o: ProgressiveResult['outcome'] & { kind: 'exit' }, decidedBy: DecidedBy) => ({
      label: o.label,
      className: manifest.classes[o.label] ?? String(o.label),
      confidence: o.confidence,
      exit: o.exit,
      decidedBy,
    });

    // 2. An exit fired before the split (or the plan is device-only): done, no network.
    if (before.outcome.kind === 'exit') {
      this.deviceScale.add(measureDeviceSample(deviceSteps, manifest, deviceWallMs));
      return {
        ...base,
        ...answer(before.outcome, 'device'),
        bytesSent: 0,
        cancelledServer: false,
        blocks: { device: before.blocksRun, localAfterSplit: 0, server: null },
        timings: { ...base.timings, totalMs: this.now() - t0 },
      };
    }
    if (before.outcome.kind !== 'split') throw new Error('device run was cancelled without a cancel flag');
    const activation = before.outcome;

    // 3. Offload the activation and keep computing locally.
    const deviceScale = this.deviceScale.add(measureDeviceSample(deviceSteps, manifest, deviceWallMs));
    const codec: CodecSpec =
      plan.codec ??
      chooseCodec({
        manifest,
        split: plan.split,
        threshold: plan.threshold,
        ...(this.options.accuracyBudgetPp !== undefined
          ? { accuracyBudgetPp: this.options.accuracyBudgetPp }
          : {}),
      }).codec;
    const tEncode = this.now();
    const tensor = encodeOffload(codec, activation, x.pixels);
    base.plan.codec = specOf(tensor.codec);
    const message: OffloadMessage = {
      v: PROTOCOL_VERSION,
      kind: 'offload',
      requestId,
      modelId: manifest.id,
      split: plan.split,
      threshold: plan.threshold,
      ...(plan.exit !== undefined ? { exit: plan.exit } : {}),
      tensor,
      context: {
        ...this.keeper?.context(deviceScale),
        deviceMs: before.computeMs,
        sentAt: Date.now(),
        ...(deviceScale !== undefined ? { deviceScale } : {}),
      },
      ...(this.keeper ? { sla: this.keeper.sla } : {}),
    };
    const body = encodeMessage(message);
    const encodeMs = this.now() - tEncode;
    // The edge's own rules, checked on what is about to leave (no decode: the values are at hand): an offload the
    // edge would refuse (a non-finite activation from a broken model file, a plan for a split the model lacks) is
    // not sent, and the device finishes alone.
    const refusal = offloadRefusal(manifest, message, activation.values);
    const offload = refusal
      ? refusedOffload(refusal)
      : startOffload({
          url: `${this.edgeUrl}/v1/infer`,
          body,
          requestId,
          classes: manifest.classes.length,
          exits: manifest.exits.length,
          fetch: this.fetchFn,
          timeoutMs: this.options.offloadTimeoutMs ?? DEFAULT_OFFLOAD_TIMEOUT_MS,
          now: this.now,
          ...(this.edgeHeaders ? { headers: this.edgeHeaders } : {}),
        });
    const local: SessionProvider = yieldingSessions(sessions, yieldToEventLoop);
    const continuation = this.options.localContinuation ?? 'hedge';
    const expectedMs =
      continuation === 'hedge'
        ? this.keeper?.expectedAnswerMs(manifest, plan.split, body.byteLength)
        : undefined;

    // 4./5. Race the server against the local continuation.
    const race = await raceOffload({
      offload,
      continuation,
      ...(expectedMs !== undefined ? { hedgeAfterMs: HEDGE_FACTOR * expectedMs } : {}),
      now: this.now,
      runLocal: (isCancelled) =>
        runProgressive({
          ...common,
          sessions: local,
          input: activation.values,
          inputShape: activation.shape,
          fromBlock: plan.split,
          toBlock: nBlocks,
          isCancelled,
          ...stepHook('after-split'),
        }),
    });

    const localRun = race.local;
    const serverOutcome = race.server;
    const serverMessage = serverOutcome?.kind === 'result' ? serverOutcome.message : undefined;
    if (serverMessage) this.adoptEdgePlan(serverMessage.plan, manifest);
    if (this.keeper) {
      if (serverOutcome?.kind === 'result') {
        this.keeper.onResult(manifest, {
          split: plan.split,
          bodyBytes: body.byteLength,
          roundTripMs: serverOutcome.roundTripMs,
          message: serverOutcome.message,
        });
      } else if (serverOutcome?.kind === 'error' && serverOutcome.reason !== 'aborted') {
        this.keeper.onOffloadFailure(manifest, this.deviceScale.current);
      }
    }
    const serverTimings =
      serverOutcome?.kind === 'result'
        ? {
            roundTripMs: serverOutcome.roundTripMs,
            serverMs: serverOutcome.message.serverMs,
            queueMs: serverOutcome.message.queueMs,
            uploadMs: Math.max(
              0,
              serverOutcome.roundTripMs - serverOutcome.message.serverMs - serverOutcome.message.queueMs,
            ),
          }
        : {};
    const common2 = {
      ...base,
      bytesSent: body.byteLength,
      ...(serverMessage ? { serverStatus: serverMessage.status } : {}),
      ...(serverMessage?.plan ? { nextPlan: serverMessage.plan } : {}),
      blocks: {
        device: before.blocksRun,
        localAfterSplit: localRun?.blocksRun ?? 0,
        server: serverMessage ? serverMessage.blocksRun : null,
      },
      timings: {
        ...base.timings,
        encodeMs,
        localAfterSplitMs: localRun?.computeMs ?? 0,
        ...serverTimings,
        totalMs: race.decidedAt - t0,
      },
    };

    if (race.winner === 'server') {
      const m = race.server.message;
      return {
        ...common2,
        label: m.label!,
        className: manifest.classes[m.label!] ?? String(m.label),
        confidence: m.confidence!,
        exit: m.exit!,
        decidedBy: 'server',
        cancelledServer: false,
      };
    }

    if (race.abandoned) this.cancelAtEdge(requestId);
    const failure = race.server;
    return {
      ...common2,
      ...answer(race.local.outcome, failure ? 'device-fallback' : 'device-race'),
      cancelledServer: race.abandoned,
      ...(failure
        ? {
            offloadError:
              failure.kind === 'error'
                ? {
                    reason: failure.reason,
                    message: failure.error,
                    ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
                  }
                : {
                    reason: failure.message.status,
                    message: failure.message.error ?? `server answered ${failure.message.status}`,
                    httpStatus: failure.httpStatus,
                  },
          }
        : {}),
    };
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
