// A client whose plan keeps it on the device never offloads, so its only news from the edge is the periodic
// `POST /v1/plan` refresh. Wasm compute resolves as microtasks; without an event-loop turn per call, back-to-back
// device-only calls would starve that response forever and the client would never leave its first plan; and a
// response read only after the whole device run would be measured as network latency.

import { describe, expect, it } from 'vitest';
import { SpinnClient } from '../../client/index.js';
import type { SpinnClientOptions } from '../../client/client-options.js';
import type { Plan } from '../../core/wire.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { diskFetch } from './support/disk-fetch.js';
import { loadFmnistTest } from './support/fmnist.js';
import { MODEL_ID, readManifest } from './support/reference.js';

const manifest = readManifest();

/**
 * A loaded client whose edge answers `POST /v1/plan` with `plan(body)` after `delayMs` (on a later macrotask, like
 * a real network response) and serves the model files from disk.
 */
async function clientWithEdge(
  refreshEvery: number,
  delayMs: number,
  plan: (body: Record<string, unknown>) => { split: number; threshold: number; seen?: Plan['seen'] },
  options: Partial<SpinnClientOptions> = {},
): Promise<SpinnClient> {
  const disk = diskFetch();
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.pathname !== '/v1/plan') return disk.fetch(input, init);
    const p = plan(JSON.parse(String(init?.body)) as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, delayMs));
    return Response.json({ plan: { ...p, codec: { scheme: 'fp32' } } });
  };
  const client = new SpinnClient({
    edgeUrl: 'http://edge.test',
    modelId: MODEL_ID,
    fetch: fetchFn,
    ort: await loadOrtWebForNode({ numThreads: 1 }),
    sla: { policy: 'spinn' },
    planRefreshEvery: refreshEvery,
    ...options,
  });
  await client.load('all');
  return client;
}

describe('plan refresh while the device computes', () => {
  it('adopts the refreshed edge plan during back-to-back device-only calls', async () => {
    const planRequests: Array<Record<string, unknown>> = [];
    // The first plan keeps the device busy; every refresh says "offload at split 5".
    const client = await clientWithEdge(3, 5, (body) => {
      planRequests.push(body);
      return { split: planRequests.length === 1 ? manifest.blocks.length : 5, threshold: 0.9 };
    });
    expect(client.scheduledPlan?.plan.split).toBe(manifest.blocks.length);
    const samples = loadFmnistTest(8);
    let switchedAt: number | undefined;
    for (let i = 0; i < samples.length && switchedAt === undefined; i++) {
      // Only device-only calls run here: switch detection stops the loop before a plan would offload.
      const r = await client.classify(samples[i]!.pixels);
      expect(r.decidedBy).toBe('device');
      if (client.scheduledPlan?.plan.split === 5) switchedAt = i;
    }
    expect(switchedAt, 'the refreshed plan was never read').toBeDefined();
    // The refresh carried what the device measured about itself.
    expect(planRequests.at(-1)!.context).toMatchObject({ deviceScale: expect.any(Number) });
    await client.dispose();
  });

  it('measures the refresh round trip, not the device run it overlapped', async () => {
    // A 2 ms network that keeps the client on the device: all 28 blocks, a refresh every other call.
    const client = await clientWithEdge(2, 2, () => ({ split: manifest.blocks.length, threshold: 1 }));
    const device: number[] = [];
    let rtt = NaN;
    for (const s of loadFmnistTest(12)) {
      const r = await client.classify(s.pixels); // all 28 blocks on the device, a refresh every other call
      device.push(r.timings.deviceMs);
      rtt = r.schedule!.context.rttMs!;
    }
    device.sort((a, b) => a - b);
    const deviceMedian = device[device.length >> 1]!;
    console.log(
      `[plan-refresh] device run median ${deviceMedian.toFixed(1)} ms; refresh RTT measured ${rtt.toFixed(1)} ms`,
    );
    // Read within a block of arriving: far below one device run (~14 ms here), which it would be without the yields.
    expect(rtt).toBeLessThan(deviceMedian / 2);
    await client.dispose();
  });

  it('replans at once when the plan was made for a device of another speed', async () => {
    const seen = (deviceScale: number) => ({
      deviceScale,
      bandwidthBps: 1e6,
      rttMs: 10,
      serverScale: 1,
      serverLoad: 0,
      serverAvailable: true,
    });
    const run = async (drift: number) => {
      const contexts: Array<Record<string, unknown> | undefined> = [];
      // The first plan was made for a device 1000× slower than the profile's (no host here is); every refresh
      // echoes the device scale the client reported, as the edge's scheduler does.
      const client = await clientWithEdge(
        100,
        2,
        (body) => {
          const context = body.context as { deviceScale?: number } | undefined;
          contexts.push(context);
          const first = contexts.length === 1;
          return {
            split: manifest.blocks.length,
            threshold: 1,
            seen: seen(first ? 1000 : context!.deviceScale!),
          };
        },
        { planDeviceDrift: drift },
      );
      for (const s of loadFmnistTest(6)) await client.classify(s.pixels);
      await client.dispose();
      return contexts;
    };
    const replanned = await run(0.3);
    // Refreshed after the first call measured the device, long before the 100 calls of the periodic refresh.
    expect(replanned.length).toBeGreaterThanOrEqual(2);
    expect(replanned[1]).toMatchObject({ deviceScale: expect.any(Number) });
    expect((replanned[1] as { deviceScale: number }).deviceScale).toBeLessThan(1000 / 1.3);
    // Tolerating any drift, the first plan stays for the whole run.
    expect(await run(1e9)).toHaveLength(1);
  });
});
