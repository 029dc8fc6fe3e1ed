// Compile-time only: what the worker's code sends must be assignable to the schema the OpenAPI document publishes
// for it (worker/api-schemas.ts). A field added to a record or an answer without its schema fails the type check.
// Kept apart from the schemas so they stay free of the worker's runtime types (Node tools build the document too).

import type { z } from 'zod';
import type {
  backendCancelSchema,
  backendHealthSchema,
  cancelAnswerSchema,
  fleetMemberSchema,
  requestRecordSchema,
} from './api-schemas.js';
import type { BackendCancelAnswer, BackendHealth } from './backend-client.js';
import type { publicRecord } from './request-record.js';
import type { CancelReply } from './request-state.js';
import type { FleetMember } from './fleet-health.js';

type Sends<Schema extends z.ZodType, T extends z.output<Schema>> = T;

export type ApiSchemaChecks = [
  Sends<typeof requestRecordSchema, ReturnType<typeof publicRecord>>,
  Sends<typeof cancelAnswerSchema, CancelReply>,
  Sends<typeof backendCancelSchema, BackendCancelAnswer>,
  Sends<typeof backendHealthSchema, BackendHealth>,
  Sends<typeof fleetMemberSchema, FleetMember>,
];
