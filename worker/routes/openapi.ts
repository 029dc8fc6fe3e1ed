// GET /v1/openapi.json: the API description (worker/openapi.json), bundled into the worker so it always matches
// the deployed code.

import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import spec from '../openapi.json';

export const openapiRoutes = new Hono<AppEnv>();

openapiRoutes.get('/v1/openapi.json', (c) => c.json(spec));
