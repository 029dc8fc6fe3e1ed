// The zod schemas of the edge's JSON bodies that core/wire.ts does not already define: every JSON answer (health,
// catalogue, plan, request record, cancel, classify, errors) and the JSON form of POST /v1/classify. The OpenAPI
// document is generated from these and core's schemas (worker/openapi-document.ts), and worker/api-schemas-check.ts
// makes the type checker hold each schema to what the code really sends: a field the code adds or changes without
// its schema fails `npm run typecheck`, and a real answer that does not validate fails the OpenAPI tests. Only zod
// and core here, so Node tools and tests can build the document too.

import { z } from 'zod';
import { slaSchema } from '../core/sla.js';
import {
  PROTOCOL_VERSION,
  planSchema,
  requestIdSchema,
  resultMessageSchema,
  resultStatusSchema,
} from '../core/wire.js';
import { MAX_IMAGE_PIXELS } from './image-input.js';

/** Every error answer of the API. */
export const errorBodySchema = z.object({
  error: z.string().max(500).describe('What was wrong, in one line (at most 500 characters).'),
});

const backendLoadSchema = z.object({
  busy: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  workers: z.number().int().positive(),
});

export const backendHealthSchema = z.object({
  reachable: z.boolean(),
  httpStatus: z.number().int().optional(),
  body: z.unknown().optional().describe("The backend's /health answer (JSON, or its first 2000 characters)."),
  error: z.string().optional(),
  ms: z.number().nonnegative(),
});

const routingViewSchema = z
  .object({
    inRotation: z.boolean(),
    ejectedForMs: z.number().nonnegative(),
    ejections: z.number().int().nonnegative(),
    inflight: z.number().int().nonnegative(),
    estimatedOutstanding: z.number().nonnegative(),
    reportedLoad: backendLoadSchema.nullable(),
    picks: z.number().int().nonnegative(),
  })
  .describe("The edge's routing state for the backend in this isolate (worker/backend-pool.ts).");

export const fleetMemberSchema = backendHealthSchema.extend({
  name: z.string().describe('The name BACKENDS (or OIP_BACKENDS) gives it; request records show it.'),
  kind: z.enum(['spinn', 'oip']).describe('A SPINN backend, or an Open Inference Protocol v2 server.'),
  url: z.string(),
  weight: z.number().positive(),
  serving: z.boolean().describe('Answered, and neither draining nor unavailable.'),
  load: backendLoadSchema.optional(),
  routing: routingViewSchema.nullable(),
});

export const healthAnswerSchema = z.object({
  status: z
    .enum(['ok', 'degraded'])
    .describe('`ok` when every backend answers its health route within 1.5 s; else `degraded`.'),
  worker: z.object({
    ok: z.literal(true),
    protocolVersion: z.literal(PROTOCOL_VERSION),
    models: z.array(z.string()),
  }),
  backend: backendHealthSchema
    .extend({
      url: z.string().nullable(),
      tokenConfigured: z.boolean(),
      error: z.string().nullable().optional(),
    })
    .describe(
      'The fleet as a one-backend edge always showed it: the first backend, `reachable` when any answers; `url` null and `error` saying what to set without one.',
    ),
  backends: z.array(fleetMemberSchema).describe('Every backend: BACKENDS, then OIP_BACKENDS.'),
  notice: z.string().optional().describe('A configuration remark that does not stop the edge.'),
});

export const modelListSchema = z.object({
  models: z.array(z.object({ id: z.string(), manifestUrl: z.string(), filesUrl: z.string() })),
});

export const planAnswerSchema = z.object({
  plan: planSchema,
  backend: z.object({ reachable: z.boolean(), load: backendLoadSchema.optional() }),
});

const lifecycleStatusSchema = z.enum(['pending', 'running', ...resultStatusSchema.options]);

export const backendCancelSchema = z.object({
  ok: z.boolean(),
  httpStatus: z.number().int().optional(),
  body: z.unknown().optional(),
  error: z.string().optional(),
  skipped: z.string().optional(),
});

export const requestRecordSchema = z.object({
  requestId: requestIdSchema,
  status: lifecycleStatusSchema,
  timestamps: z
    .partialRecord(lifecycleStatusSchema, z.number())
    .describe("Epoch ms of each transition the request went through (the edge's clock)."),
  modelId: z.string().nullable(),
  split: z.number().int().nonnegative().nullable(),
  threshold: z.number().min(0).max(1).nullable(),
  cancelledBeforeOffload: z.boolean(),
  result: resultMessageSchema
    .pick({ exit: true, label: true, confidence: true, serverMs: true, queueMs: true, blocksRun: true })
    .nullable(),
  error: z.string().nullable(),
  backendCancel: backendCancelSchema.nullable(),
  backend: z
    .string()
    .nullable()
    .describe(
      'Name of the backend that holds (or last held) the request; null before one was chosen. Never its URL.',
    ),
});

export const cancelAnswerSchema = z.object({
  requestId: requestIdSchema,
  status: lifecycleStatusSchema,
  cancelledBeforeOffload: z.boolean(),
  backend: backendCancelSchema,
});

/** POST /v1/classify as JSON: an 8-bit image, rows top to bottom, channels interleaved. */
export const classifyJsonSchema = z
  .object({
    pixels: z
      .array(z.number().int().min(0).max(255))
      .min(1)
      .max(MAX_IMAGE_PIXELS * 4)
      .describe('width × height × channels values 0..255, row-major, channels interleaved'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z
      .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
      .optional()
      .describe(
        '1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (alpha ignored); default pixels.length / (width × height)',
      ),
    sla: slaSchema
      .optional()
      .describe(
        "The SLA the edge's scheduler plans for; without one, within 1 percentage point of the model's best accuracy, then the fastest.",
      ),
  })
  .strict();
export type ClassifyJson = z.infer<typeof classifyJsonSchema>;

export const classifyAnswerSchema = z.object({
  requestId: requestIdSchema.describe(
    'The request id the edge gave this classification (GET /v1/requests/{id}).',
  ),
  modelId: z.string(),
  label: z.number().int().nonnegative().describe("Index into the manifest's classes."),
  className: z.string(),
  confidence: z.number().min(0).max(1),
  exit: z.number().int().nonnegative().describe("Index into the manifest's exits of the exit that answered."),
  plan: planSchema.describe(
    "The edge's plan for a client that runs nothing locally: split 0, its threshold.",
  ),
  timings: z.object({
    totalMs: z
      .number()
      .nonnegative()
      .describe(
        "At the edge, from the request to the answer. Workers' clocks advance only across I/O (a Spectre " +
          'mitigation), so the edge cannot time its own decoding and preprocessing apart: they are in here.',
      ),
    serverMs: z.number().nonnegative().describe('Backend compute.'),
    queueMs: z.number().nonnegative().describe('Time queued at the backend.'),
  }),
});
export type ClassifyAnswer = z.infer<typeof classifyAnswerSchema>;
