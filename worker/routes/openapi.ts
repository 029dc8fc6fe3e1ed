// GET /v1/openapi.json: the API description, generated from the zod schemas the edge validates with
// (worker/openapi-document.ts), so it always matches the deployed code.

import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { openApiDocument } from '../openapi-document.js';

export const openapiRoutes = new Hono<AppEnv>().get('/v1/openapi.json', (c) => c.json(openApiDocument()));
