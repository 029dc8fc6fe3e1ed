// A strict reader of the Prometheus text exposition format (0.0.4) for the backend's /metrics tests: every line must
// be a comment, HELP, TYPE or sample, every sample must follow its family's TYPE, and values must be numbers.

import { expect } from 'vitest';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format (0.0.4): every line must be a comment, HELP, TYPE or sample. */
export function parsePrometheus(text: string): Map<string, { type: string; samples: Sample[] }> {
  const families = new Map<string, { type: string; samples: Sample[] }>();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`));
    if (type) {
      expect(families.has(type[1]!), `duplicate TYPE for ${type[1]}`).toBe(false);
      families.set(type[1]!, { type: type[2]!, samples: [] });
      continue;
    }
    if (line.startsWith('# HELP ') || line.startsWith('#')) continue;
    const m = line.match(sampleRe);
    expect(m, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const [, name, rawLabels = '', rawValue] = m!;
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    // Values are read like Go's ParseFloat (the format's definition), so NaN is case-insensitive: prom-client writes
    // `Nan` (an event-loop mean before any sample), which Prometheus accepts.
    expect(Number.isNaN(value) && !/^nan$/i.test(rawValue!), `bad value in: ${line}`).toBe(false);
    const labels: Record<string, string> = {};
    for (const l of rawLabels.matchAll(labelRe)) labels[l[1]!] = l[2]!;
    const family = [...families.keys()].find(
      (f) =>
        name === f ||
        (families.get(f)!.type === 'histogram' &&
          /^_(bucket|sum|count)$/.test(name!.slice(f.length)) &&
          name!.startsWith(f)),
    );
    expect(family, `sample ${name} before its TYPE`).toBeDefined();
    families.get(family!)!.samples.push({ name: name!, labels, value });
  }
  return families;
}
