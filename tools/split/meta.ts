// Why this file exists: the facts about a model that its ONNX file does not hold (id, description, class
// names, input preprocessing) come from a small JSON file next to the training output (`--meta`). Validated
// here so a typo fails at split time, not in a client.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { preprocessingSchema } from '../../core/manifest.js';
import { SplitError } from './errors.js';

export const modelMetaSchema = z.object({
  id: z.string().optional(),
  description: z.string().optional(),
  classes: z.array(z.string()).min(1).optional(),
  preprocessing: preprocessingSchema.optional(),
});
export type ModelMeta = z.infer<typeof modelMetaSchema>;

export function readMeta(path: string): ModelMeta {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SplitError(`cannot read meta file ${path}: ${(err as Error).message}`);
  }
  const parsed = modelMetaSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SplitError(`invalid meta file ${path}: ${issues.join('; ')}`);
  }
  return parsed.data;
}
