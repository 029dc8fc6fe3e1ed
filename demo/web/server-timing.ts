// Reads the `Server-Timing` header the edge puts on every offload answer (`edge;dur=1.2, backend;dur=6.5, ...`)
// into durations by name, for the timeline. Entries without a `dur` and malformed ones are skipped.

export type ServerTiming = Record<string, number>;

export function parseServerTiming(header: string | null): ServerTiming | undefined {
  if (!header) return undefined;
  const out: ServerTiming = {};
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';').map((p) => p.trim());
    const dur = params.find((p) => p.startsWith('dur='));
    const ms = dur ? Number(dur.slice(4)) : NaN;
    if (name && Number.isFinite(ms)) out[name] = ms;
  }
  return Object.keys(out).length ? out : undefined;
}
