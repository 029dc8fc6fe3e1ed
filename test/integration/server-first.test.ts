// Full stack, server answers: the client offloads at the split and (continuation 'on-failure') waits for the
// server, whose answer must equal what the original model says under the same exit rule.
import { describe, expect, it } from 'vitest';
import { expectedAnswer, referenceLogits } from '../client/support/reference.js';
import { manifest, newClient, samples, useStack } from './stack-fixture.js';

// No timeout may decide who answers: the edge and the client wait far longer than any backend run takes.
const { stack } = useStack({}, { BACKEND_TIMEOUT_MS: '600000' });

describe('server-first through the real worker and backend', () => {
  it('answers like the single model for offloaded requests, and the edge records the lifecycle', async () => {
    const client = await newClient(stack().edge.url, {
      localContinuation: 'on-failure',
      offloadTimeoutMs: 600_000,
    });
    const imgs = samples(12);
    const logits = await referenceLogits(manifest, imgs);
    const plans = [
      { split: 0, threshold: 0.9 },
      { split: 3, threshold: 1 },
      { split: 9, threshold: 0.95 },
    ];
    let serverAnswers = 0;
    for (const [i, img] of imgs.entries()) {
      const plan = plans[i % plans.length]!;
      const r = await client.classify(img.pixels, { plan });
      const want = expectedAnswer(logits[i]!, plan.threshold, manifest);
      expect(r.label, `image ${i}`).toBe(want.label);
      expect(r.exit, `image ${i}`).toBe(want.exit);
      if (manifest.exits[want.exit]!.afterBlock < plan.split) {
        expect(r.decidedBy).toBe('device');
        continue;
      }
      serverAnswers++;
      expect(r.decidedBy).toBe('server');
      expect(r.serverStatus).toBe('done');
      expect(r.bytesSent).toBeGreaterThan(0);
      expect(r.timings.serverMs).toBeGreaterThan(0);
      const state = (await (
        await fetch(`${stack().edge.url}/v1/requests/${r.requestId}`, { headers: stack().edgeHeaders })
      ).json()) as Record<string, unknown>;
      expect(state.status).toBe('done');
    }
    expect(serverAnswers).toBeGreaterThan(4);
    await client.dispose();
  });
});
