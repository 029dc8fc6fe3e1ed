// The demo's SLA presets and how each becomes a plan ⟨split, threshold⟩. When the edge runs the scheduler
// (`POST /v1/plan`), the preset's SLA is sent there and the edge's plan is used; when the edge has no scheduler
// (404/405/415, or any failure) the preset's fixed plan is used instead, and the page says which one it ran.
// This is the only place that maps presets to plans.

/** The SLA as the scheduler reads it (core/sla.ts): hard limits and a priority order of objectives. */
export interface PresetSla {
  limits: Record<string, number>;
  priority: Array<'latency' | 'throughput' | 'serverCost' | 'deviceCost' | 'accuracy'>;
  policy?: string;
}

export interface SlaPreset {
  id: string;
  label: string;
  /** One line for the page: what the preset favours. */
  description: string;
  sla: PresetSla;
  /** Used when the edge cannot plan. `split` = 28 (the model's block count) is device-only. */
  fixedPlan: { split: number; threshold: number };
}

export const SLA_PRESETS: readonly SlaPreset[] = [
  {
    id: 'low-latency',
    label: 'Low latency',
    description: 'Answer fast: early exits on the device, offload only the hard images after block 5.',
    sla: { limits: { maxLatencyMs: 50 }, priority: ['latency', 'accuracy'] },
    fixedPlan: { split: 5, threshold: 0.9 },
  },
  {
    id: 'balanced',
    label: 'Balanced',
    description: 'Accuracy within 0.5 pp of the best, then latency: split after block 9, threshold 0.95.',
    sla: { limits: { maxAccuracyLossPp: 0.5 }, priority: ['accuracy', 'latency'] },
    fixedPlan: { split: 9, threshold: 0.95 },
  },
  {
    id: 'max-accuracy',
    label: 'Max accuracy (server)',
    description: 'Best accuracy: the server runs the whole network to the final classifier (no early exit).',
    sla: { limits: {}, priority: ['accuracy', 'latency'], policy: 'server-only' },
    fixedPlan: { split: 0, threshold: 1 },
  },
  {
    id: 'low-server-cost',
    label: 'Low server cost',
    description: 'Spare the server: the device runs half the network, threshold 0.8.',
    sla: { limits: {}, priority: ['serverCost', 'latency'] },
    fixedPlan: { split: 13, threshold: 0.8 },
  },
  {
    id: 'on-device',
    label: 'On device only',
    description: 'Private / offline: every block runs on this device, nothing is sent.',
    sla: { limits: {}, priority: ['latency'], policy: 'device-only' },
    fixedPlan: { split: 28, threshold: 0.9 },
  },
];

export function presetById(id: string): SlaPreset {
  return SLA_PRESETS.find((p) => p.id === id) ?? SLA_PRESETS[0]!;
}

export interface ChosenPlan {
  split: number;
  threshold: number;
  /** The codec the edge chose for the activation (passed through to the client untouched), if any. */
  codec?: unknown;
  /** The scheduler's predicted latency for this plan, ms, if it gave one. */
  estimateMs?: number;
  /** `edge` = the edge's scheduler chose it; `preset` = the preset's fixed plan (scheduler unavailable). */
  source: 'edge' | 'preset';
  /** Why the fixed plan was used, or what the scheduler said about its choice. */
  note: string;
}

/** What the edge said about its scheduler: unknown until asked, then remembered for the page's lifetime. */
let schedulerMissing = false;

/** The plan in a `POST /v1/plan` answer (`{ plan: { split, threshold, codec?, reason?, estimate? } }`). */
function planOf(body: unknown): ChosenPlan | undefined {
  const b = body as { plan?: unknown } | null;
  const p = (b && typeof b === 'object' && 'plan' in b ? b.plan : b) as Record<string, unknown> | null;
  if (!p || typeof p.split !== 'number' || typeof p.threshold !== 'number') return undefined;
  const est = (p.estimate as { latencyMs?: unknown } | undefined)?.latencyMs;
  const feasible = p.feasible === false ? ' (no plan meets every limit: least-violating)' : '';
  return {
    split: p.split,
    threshold: p.threshold,
    ...(p.codec !== undefined ? { codec: p.codec } : {}),
    ...(typeof est === 'number' ? { estimateMs: est } : {}),
    source: 'edge',
    note: `${typeof p.reason === 'string' ? p.reason : 'edge scheduler'}${feasible}`,
  };
}

/** What the page knows about this device and link, in the scheduler's units (core/wire.ts clientContext). */
export function planContext(o: {
  uplinkBitsPerSecond: number;
  deviceFactor: number;
}): Record<string, number> {
  return {
    ...(o.uplinkBitsPerSecond > 0 ? { bandwidthBps: o.uplinkBitsPerSecond / 8 } : {}), // bytes per second
    ...(o.deviceFactor > 1 ? { deviceScale: o.deviceFactor } : {}),
  };
}

/** Asks the edge's scheduler for a plan under the preset's SLA; falls back to the preset's fixed plan. */
export async function choosePlan(
  edgeUrl: string,
  modelId: string,
  preset: SlaPreset,
  context: Record<string, number>,
  useScheduler = true,
  fetchFn: typeof fetch = fetch,
): Promise<ChosenPlan> {
  const fixed = (note: string): ChosenPlan => ({ ...preset.fixedPlan, source: 'preset', note });
  if (!useScheduler) return fixed('scheduler switched off on this page: fixed preset plan');
  if (preset.sla.policy === 'device-only') return fixed('device-only preset: no scheduler needed');
  if (schedulerMissing) return fixed('the edge has no scheduler (POST /v1/plan): fixed preset plan');
  try {
    const res = await fetchFn(`${edgeUrl}/v1/plan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ modelId, sla: preset.sla, context }),
      signal: AbortSignal.timeout(2000),
    });
    if ([404, 405, 415, 501].includes(res.status)) {
      schedulerMissing = true;
      await res.body?.cancel();
      return fixed('the edge has no scheduler (POST /v1/plan): fixed preset plan');
    }
    const body: unknown = await res.json().catch(() => undefined);
    const plan = res.ok ? planOf(body) : undefined;
    if (!plan) {
      const why = (body as { error?: unknown } | undefined)?.error;
      return fixed(
        `POST /v1/plan answered ${res.status}${typeof why === 'string' ? ` (${why})` : ''}: fixed preset plan`,
      );
    }
    return plan;
  } catch (e) {
    return fixed(`POST /v1/plan failed (${(e as Error).message}): fixed preset plan`);
  }
}
