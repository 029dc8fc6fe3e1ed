// Validates real bodies against the edge's generated OpenAPI document with ajv (JSON Schema 2020-12, what OpenAPI
// 3.1 uses): an answer by method, path, status and media type; a request body likewise. Shared responses
// (`$ref: #/components/responses/…`) are followed. Msgpack bodies are validated as decoded, with their bin values
// (Uint8Array) as binary strings, which is how the document describes them. No Node APIs: the worker's unit tests
// (Workers types) use it too.

import Ajv2020 from 'ajv/dist/2020.js';

interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { responses?: Record<string, Response> };
}
interface Response {
  $ref?: string;
  content?: Record<string, unknown>;
}
interface Operation {
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, Response>;
}

/** JSON Pointer escaping of one path segment. */
const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A decoded msgpack value as JSON Schema sees it: every Uint8Array a binary string. */
export function asJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return new TextDecoder('latin1').decode(value);
  if (Array.isArray(value)) return value.map(asJsonValue);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJsonValue(v)]));
  return value;
}

export interface OpenApiValidator {
  /** Why `body` is not a valid `status` answer of `method path` as `type` ([] when it is). */
  answer(method: string, path: string, status: number, type: string, body: unknown): string[];
  /** Why `body` is not a valid request body of `method path` as `type` ([] when it is). */
  request(method: string, path: string, type: string, body: unknown): string[];
}

export function openApiValidator(document: unknown): OpenApiValidator {
  const doc = document as Doc;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc as object, 'openapi');

  const check = (pointer: string, body: unknown, what: string): string[] => {
    const validate = ajv.getSchema(`openapi#${pointer}`);
    if (!validate) return [`${what}: the document has no schema at ${pointer}`];
    if (validate(asJsonValue(body))) return [];
    return (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '(root)'} ${e.message ?? ''}`);
  };

  return {
    answer(method, path, status, type, body) {
      const what = `${method.toUpperCase()} ${path} ${status} ${type}`;
      const op = doc.paths[path]?.[method.toLowerCase()];
      let response = op?.responses[String(status)];
      if (!response) return [`${what}: not in the document`];
      let pointer = `/paths/${escape(path)}/${method.toLowerCase()}/responses/${status}`;
      if (response.$ref) {
        const name = response.$ref.split('/').pop()!;
        response = doc.components.responses?.[name];
        pointer = `/components/responses/${escape(name)}`;
      }
      if (!response?.content?.[type]) return [`${what}: no such media type in the document`];
      return check(`${pointer}/content/${escape(type)}/schema`, body, what);
    },
    request(method, path, type, body) {
      const what = `${method.toUpperCase()} ${path} request ${type}`;
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op?.requestBody?.content[type]) return [`${what}: not in the document`];
      const pointer = `/paths/${escape(path)}/${method.toLowerCase()}/requestBody/content/${escape(type)}/schema`;
      return check(pointer, body, what);
    },
  };
}
