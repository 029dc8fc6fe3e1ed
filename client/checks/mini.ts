// The client's checks of what reaches it (results, plans, manifests) and of its own SLA, written with zod/mini
// instead of core's full zod schemas: zod/mini's functions tree-shake, so the published browser bundle carries
// ~10 kB of validation instead of ~450 kB (packages/client/README.md, the size budget). The schemas in this folder
// mirror core's one for one; test/client/checks.test.ts proves each mirror describes the same JSON Schema as its
// original and gives the same verdict on mutated values, so a change to core that is not mirrored here fails there.
// The edge and the backend keep core's full schemas (and the OpenAPI document is generated from those).

import type { core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Options for every parse here: readable messages ("Invalid input: expected number, received string"), the ones the
 * full zod gives. Passed per parse, not through zod's `config()`, which is shared by every copy of zod on the page
 * (globalThis) and so belongs to the application; `en` is imported by name (`z.locales.en` bundles every locale).
 */
export const PARSE_OPTIONS = { error: en().localeError };

/** Issues as `path: message` lines, the shape core's parsers report. */
export function issueLines(issues: readonly core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}

/** True when two types are mutually assignable: the mirrors assert they infer exactly core's types. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
