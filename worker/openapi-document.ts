// Builds the OpenAPI 3.1 document of the edge (GET /v1/openapi.json) from the zod schemas the code validates and
// answers with: core/wire.ts (msgpack offloads and results, plan requests), core/manifest.ts and
// worker/api-schemas.ts, turned into JSON Schema 2020-12 by zod's own `z.toJSONSchema` — request bodies as zod reads
// them (`io: 'input'`: defaulted fields optional), answers as the code sends them (`io: 'output'`). Only the prose
// and the table of operations (worker/openapi-operations.ts) are written by hand; a test holds that table to the
// routes the app registers. info.version is the package version, x-spinn-protocol-version the wire protocol.

import { z } from 'zod';
import { version } from '../package.json';
import { modelManifestSchema } from '../core/manifest.js';
import {
  PROTOCOL_VERSION,
  offloadMessageSchema,
  planRequestSchema,
  planSchema,
  requestIdSchema,
  resultMessageSchema,
} from '../core/wire.js';
import {
  cancelAnswerSchema,
  classifyAnswerSchema,
  classifyJsonSchema,
  errorBodySchema,
  healthAnswerSchema,
  modelListSchema,
  planAnswerSchema,
  requestRecordSchema,
} from './api-schemas.js';
import {
  API_DESCRIPTION,
  OPERATIONS,
  SHARED_RESPONSES,
  openApiPath,
  type Operation,
} from './openapi-operations.js';

/** Schemas of request bodies and parameters, as zod reads them. */
const INPUTS = {
  OffloadMessage: offloadMessageSchema,
  PlanRequest: planRequestSchema,
  ClassifyJson: classifyJsonSchema,
  RequestId: requestIdSchema,
};

/** Schemas of answers, as the code sends them. */
const OUTPUTS = {
  ResultMessage: resultMessageSchema,
  Plan: planSchema,
  PlanAnswer: planAnswerSchema,
  Health: healthAnswerSchema,
  ModelList: modelListSchema,
  ModelManifest: modelManifestSchema,
  RequestRecord: requestRecordSchema,
  CancelAnswer: cancelAnswerSchema,
  ClassifyAnswer: classifyAnswerSchema,
  Error: errorBodySchema,
};

export type SchemaName = keyof typeof INPUTS | keyof typeof OUTPUTS;

type JsonSchema = Record<string, unknown>;

/**
 * Binary fields (z.custom<Uint8Array>: a tensor's payload) have no JSON Schema of their own: msgpack carries them as
 * `bin`, so the document calls them binary strings.
 */
function describeBinary(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  if (ctx.zodSchema._zod.def.type === 'custom')
    Object.assign(ctx.jsonSchema, {
      type: 'string',
      format: 'binary',
      description: 'raw bytes (a msgpack bin value)',
    });
}

function componentSchemas(
  schemas: Record<string, z.ZodType>,
  io: 'input' | 'output',
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: describeBinary,
  }) as { schemas: Record<string, JsonSchema> };
  // Components live inside the OpenAPI document: no $schema or $id of their own.
  for (const s of Object.values(out)) {
    delete s.$schema;
    delete s.$id;
  }
  return out;
}

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

function operationObject(op: Operation): JsonSchema {
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(op.responses)) {
    if (typeof r === 'string') {
      responses[status] = { $ref: `#/components/responses/${r}` };
      continue;
    }
    responses[status] = {
      description: r.description,
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.body ? { content: { [r.body.type]: { schema: r.body.schema ? ref(r.body.schema) : {} } } } : {}),
    };
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.keyed ? { security: [{ apiKey: [] }] } : { security: [] }),
    ...(op.parameters
      ? {
          parameters: op.parameters.map(({ schema, ...p }) => ({
            ...p,
            schema: typeof schema === 'string' ? ref(schema) : schema,
          })),
        }
      : {}),
    ...(op.request
      ? {
          requestBody: {
            required: true,
            ...(op.request.description ? { description: op.request.description } : {}),
            content: Object.fromEntries(
              Object.entries(op.request.content).map(([type, schema]) => [
                type,
                { schema: typeof schema === 'string' ? ref(schema) : schema },
              ]),
            ),
          },
        }
      : {}),
    responses,
  };
}

function build(): JsonSchema {
  const inputs = componentSchemas(INPUTS, 'input');
  const outputs = componentSchemas(OUTPUTS, 'output');
  const paths: Record<string, JsonSchema> = {};
  for (const op of OPERATIONS) {
    const path = (paths[openApiPath(op.path)] ??= {});
    path[op.method] = operationObject(op);
  }
  const errorContent = { 'application/json': { schema: ref('Error') } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'SPINN edge worker API',
      version,
      'x-spinn-protocol-version': PROTOCOL_VERSION,
      description: API_DESCRIPTION,
    },
    servers: [{ url: 'http://127.0.0.1:8787', description: 'wrangler dev' }],
    paths,
    components: {
      schemas: { ...inputs, ...outputs },
      responses: Object.fromEntries(
        Object.entries(SHARED_RESPONSES).map(([name, r]) => [
          name,
          { description: r.description, ...(r.headers ? { headers: r.headers } : {}), content: errorContent },
        ]),
      ),
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key of this edge (`npm run key:new`); the edge stores only its SHA-256 (API_KEYS).',
        },
      },
    },
  };
}

let cached: JsonSchema | undefined;

/** The edge's OpenAPI document (built once per process or isolate). */
export function openApiDocument(): JsonSchema {
  return (cached ??= build());
}
