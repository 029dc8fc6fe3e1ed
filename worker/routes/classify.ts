// POST /v1/classify: the curl path. A client that runs nothing itself sends an image — a PNG or JPEG body, or JSON
// `{ pixels, width, height, channels?, sla? }` — and gets JSON `{ label, className, confidence, exit, … }` back. The
// edge decodes it (worker/image-input.ts), applies the model's preprocessing recipe (core/preprocess.ts stage 1:
// uint8 pixels at model resolution), asks its scheduler for the plan of a client that runs nothing locally (split
// 0; the threshold from the SLA), and sends the pixels as a `u8` split-0 offload along the one offload path
// (worker/offload-flow.ts), exactly as a client's server-only offload goes: same validation, lifecycle record, cancel
// rules and key limits.

import { Hono, type Context } from 'hono';
import { checkOffload } from '../../core/offload-validation.js';
import { imageToPixels, inputGeometry, type RawImage } from '../../core/preprocess.js';
import { validationMessage } from '../../core/public-error.js';
import { slaSchema, type Sla } from '../../core/sla.js';
import { PROTOCOL_VERSION, type OffloadMessage } from '../../core/wire.js';
import { classifyJsonSchema, type ClassifyAnswer } from '../api-schemas.js';
import { readConfig, type AppEnv } from '../env.js';
import { httpError } from '../http-error.js';
import { ImageError, MAX_IMAGE_BODY_BYTES, decodeImage, jsonImage } from '../image-input.js';
import { getManifest } from '../model-registry.js';
import { planFor } from '../next-plan.js';
import { runOffload } from '../offload-flow.js';
import { readBodyLimited, readJsonLimited } from '../read-body.js';

/** Media types POST /v1/classify reads as an image (the bytes' signature decides PNG or JPEG). */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'application/octet-stream']);

/**
 * The SLA of a classification that names none (every image body): within 1 percentage point of the model's best
 * accuracy, then the fastest. A caller that runs nothing has no latency budget to trade for accuracy, so the edge's
 * general default (latency first, which lets the first exit answer nearly everything) would answer it badly.
 */
export const CLASSIFY_DEFAULT_SLA: Sla = slaSchema.parse({ limits: { maxAccuracyLossPp: 1 } });

const mediaType = (c: Context) => (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/** The request's image (and SLA, from the JSON form), or a 4xx saying what was wrong with it. */
async function readImage(c: Context<AppEnv>): Promise<{ image: RawImage; sla?: Sla }> {
  const type = mediaType(c);
  const deadline = readConfig(c.env).bodyTimeoutMs;
  try {
    if (type === 'application/json') {
      const parsed = classifyJsonSchema.safeParse(
        await readJsonLimited(c.req.raw, MAX_IMAGE_BODY_BYTES, deadline),
      );
      if (!parsed.success) throw httpError(400, validationMessage('classify request', parsed.error.issues));
      const { pixels, width, height, channels, sla } = parsed.data;
      return { image: jsonImage(pixels, width, height, channels), ...(sla ? { sla } : {}) };
    }
    if (!IMAGE_TYPES.has(type))
      throw httpError(
        415,
        `content-type must be image/png, image/jpeg or application/json, got ${JSON.stringify(type || null)}`,
      );
    const body = await readBodyLimited(c.req.raw, MAX_IMAGE_BODY_BYTES, deadline);
    if (body.byteLength === 0) throw httpError(400, 'empty body; expected a PNG or JPEG image');
    return { image: decodeImage(body) };
  } catch (e) {
    if (e instanceof ImageError) throw httpError(400, e.message);
    throw e;
  }
}

export const classifyRoutes = new Hono<AppEnv>().post('/v1/classify', async (c) => {
  const started = Date.now();
  const config = readConfig(c.env);
  const modelId = c.req.query('model') ?? config.models[0];
  if (modelId === undefined) throw httpError(503, 'this edge serves no model (MODELS is empty)');
  const manifest = await getManifest(c.env, config, modelId);
  if (!manifest.input.preprocessing)
    throw httpError(
      400,
      `model ${modelId} has no preprocessing recipe in its manifest, so the edge cannot turn an image into its ` +
        'input; send the preprocessed input to POST /v1/infer instead',
    );
  const { image, sla } = await readImage(c);

  const pixels = imageToPixels(image, manifest.input);
  const { channels, height, width } = inputGeometry(manifest.input);
  const plan = planFor({
    manifest,
    context: {},
    ...(sla ? { sla } : {}),
    serverAvailable: true,
    serverOnly: true,
  });
  const offload: OffloadMessage = {
    v: PROTOCOL_VERSION,
    requestId: `classify-${crypto.randomUUID()}`,
    modelId,
    split: 0,
    threshold: plan.threshold,
    tensor: { codec: { scheme: 'u8' }, shape: [1, channels, height, width], data: pixels },
    ...(plan.exit !== undefined ? { exit: plan.exit } : {}),
  };
  checkOffload(manifest, offload); // the rule every offload obeys, whoever made it

  const { httpStatus, result } = await runOffload(
    c.env,
    c.executionCtx,
    config,
    offload,
    c.var.principal.name,
  );
  if (result.status === 'cancelled') throw httpError(409, `request ${offload.requestId} was cancelled`);
  if (result.status !== 'done' || result.label === null || result.exit === null || result.confidence === null)
    throw httpError(
      httpStatus === 200 ? 502 : httpStatus,
      `the backend could not classify the image: ${result.error ?? result.status}`,
    );
  const answer: ClassifyAnswer = {
    requestId: offload.requestId,
    modelId,
    label: result.label,
    className: manifest.classes[result.label] ?? String(result.label),
    confidence: result.confidence,
    exit: result.exit,
    plan,
    timings: {
      totalMs: Date.now() - started,
      serverMs: result.serverMs,
      queueMs: result.queueMs,
    },
  };
  return c.json(answer);
});
