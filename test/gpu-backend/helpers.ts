// Shared fixtures of the gpu-backend tests: real Fashion-MNIST test images preprocessed by core's contract, the
// device side of a split computed with onnxruntime-node on the real block files, the original single model's exits
// as ground truth, offload bodies, and a backend configuration sized for a 2-core CI machine.

import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadFashionMnist } from '../../tools/dataset/fashion-mnist.js';
import { shouldExit, softmax, top1 } from '../../core/exit-policy.js';
import type { ModelManifest } from '../../core/manifest.js';
import { preprocessGray } from '../../core/preprocess.js';
import { runProgressive, type SessionProvider } from '../../core/progressive-executor.js';
import type { CodecSpec } from '../../core/codec-spec.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import {
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  decodeResult,
  encodeMessage,
  type ResultMessage,
} from '../../core/wire.js';
import type { BackendConfig } from '../../gpu-backend/config.js';
import { loadModelDir } from '../../gpu-backend/model-store.js';

export const MODELS_DIR = resolve(import.meta.dirname, '../../models');
export const MODEL_ID = 'resnet56-fmnist';
export const MODEL_DIR = join(MODELS_DIR, MODEL_ID);
export const SOURCE_MODEL = join(MODEL_DIR, 'train/model.onnx');

export function manifest(): ModelManifest {
  return loadModelDir(MODEL_DIR).manifest;
}

export function testConfig(over: Partial<BackendConfig> = {}): BackendConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    modelsDir: MODELS_DIR,
    // The backend tests are about resnet56-fmnist; loading every committed model would only slow each start.
    modelIds: [MODEL_ID],
    workers: 1,
    threads: 1,
    spinning: false,
    provider: 'auto',
    token: null,
    maxBodyBytes: 256 * 1024,
    maxQueue: 64,
    cancelTtlMs: 60_000,
    maxEarlyCancels: 1000,
    maxRecords: 1000,
    shutdownGraceMs: 5000,
    batching: { maxBatch: null, maxDelayMs: null, perModel: {} },
    logLevel: 'info',
    testHooks: false,
    ...over,
  };
}

/** The first `count` Fashion-MNIST test images as raw 28×28 grey pixels. */
export function testPixels(count: number): Uint8Array[] {
  const ds = loadFashionMnist('test', { limit: count });
  return Array.from({ length: ds.count }, (_, i) => ds.images.slice(i * 784, (i + 1) * 784));
}

/** The first `count` Fashion-MNIST test images, preprocessed to [1,1,32,32] with the manifest's preprocessing. */
export function testImages(count: number, m: ModelManifest = manifest()): Float32Array[] {
  const ds = loadFashionMnist('test', { limit: count });
  return Array.from({ length: ds.count }, (_, i) =>
    preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), m.input),
  );
}

const tensor = (values: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', values, dims);

/** Runs the device side (blocks < split) in this process, as a client would. */
export class DeviceSide {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly sessions: SessionProvider,
  ) {}

  static async load(): Promise<DeviceSide> {
    const { dir, manifest: m } = loadModelDir(MODEL_DIR);
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, executionProviders: ['cpu'] };
    const blocks = await Promise.all(
      m.blocks.map((b) => ort.InferenceSession.create(join(dir, b.file), opts)),
    );
    const exits = await Promise.all(m.exits.map((e) => ort.InferenceSession.create(join(dir, e.file), opts)));
    return new DeviceSide(m, { block: async (i) => blocks[i]!, exit: async (i) => exits[i]! });
  }

  /** The activation leaving block split-1 (the image itself for split 0). */
  async activation(image: Float32Array, split: number): Promise<{ values: Float32Array; shape: number[] }> {
    if (split === 0) return { values: image, shape: [1, 1, 32, 32] };
    const r = await runProgressive({
      manifest: this.manifest,
      sessions: this.sessions,
      createTensor: tensor,
      input: image,
      inputShape: [1, 1, 32, 32],
      fromBlock: 0,
      toBlock: split,
      threshold: 1,
    });
    if (r.outcome.kind !== 'split') throw new Error(`device side ended with ${r.outcome.kind}`);
    return { values: r.outcome.values, shape: r.outcome.shape };
  }
}

/** Softmax probabilities of every exit of the original single model (outputs exit0..exit5, final). */
export async function sourceModelExits(
  session: ort.InferenceSession,
  image: Float32Array,
): Promise<Float32Array[]> {
  const out = await session.run({ input: tensor(image, [1, 1, 32, 32]) });
  return session.outputNames.map((name) => softmax((out[name] as ort.Tensor).data as Float32Array));
}

/** Core's exit rule applied to the single model's exits, for a request offloaded at `split`. */
export function expectedAnswer(m: ModelManifest, probs: Float32Array[], split: number, threshold: number) {
  for (const e of m.exits) {
    if (e.afterBlock < split) continue; // the device's exits
    const { label, confidence } = top1(probs[e.index]!);
    if (shouldExit(confidence, threshold, e.final)) {
      return { exit: e.index, label, confidence, blocksRun: e.afterBlock + 1 - split };
    }
  }
  throw new Error('no exit answered');
}

let seq = 0;
export function newRequestId(prefix = 'req'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${(seq++).toString(36)}`;
}

export function offloadBody(o: {
  requestId: string;
  split: number;
  threshold: number;
  values: Float32Array;
  shape: number[];
  modelId?: string;
  codec?: CodecSpec;
  /** Edgent-style truncation: only this exit answers. */
  exit?: number;
}): Uint8Array {
  return encodeMessage({
    v: PROTOCOL_VERSION,
    requestId: o.requestId,
    modelId: o.modelId ?? MODEL_ID,
    split: o.split,
    threshold: o.threshold,
    ...(o.exit !== undefined ? { exit: o.exit } : {}),
    tensor: encodeTensor(o.values, o.shape, o.codec ?? { scheme: 'fp32' }),
    context: {},
  });
}

export function inferInit(body: Uint8Array, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    body: body as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...headers },
  };
}

export async function readResult(res: Response): Promise<ResultMessage> {
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return decodeResult(new Uint8Array(await res.arrayBuffer()));
}
