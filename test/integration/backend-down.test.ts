// Full stack with the backend gone: offloads fail at the edge (502 + a `failed` result), the edge reports itself
// degraded, and the client still answers every request on the device with the model's own label.
import { describe, expect, it } from 'vitest';
import { expectedAnswer, referenceLogits } from '../client/support/reference.js';
import { manifest, newClient, samples, useStack } from './stack-fixture.js';

const { stack } = useStack();

describe('backend down', () => {
  it('the client falls back to the device and answers correctly', async () => {
    // 'on-failure': the device waits for the offload's outcome, so the failure path itself is what answers.
    const client = await newClient(stack().edge.url, { localContinuation: 'on-failure' });
    await stack().backend.stop();
    const health = (await (await fetch(`${stack().edge.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health.status).toBe('degraded');

    const imgs = samples(4, 20);
    const logits = await referenceLogits(manifest, imgs);
    for (const [i, img] of imgs.entries()) {
      const plan = { split: 5, threshold: 1 };
      const r = await client.classify(img.pixels, { plan });
      expect(r.decidedBy).toBe('device-fallback');
      expect(r.offloadError?.httpStatus).toBe(502);
      expect(r.label).toBe(expectedAnswer(logits[i]!, 1, manifest).label);
      const edge = (await (
        await fetch(`${stack().edge.url}/v1/requests/${r.requestId}`, { headers: stack().edgeHeaders })
      ).json()) as Record<string, unknown>;
      expect(edge.status).toBe('failed');
    }
    await client.dispose();
  });
});
