// Measures each device class for real: the full model (no early exit) on the client throttled to that share of a
// core, against the backend's own compute time for the same work, so the report states the device/server speed
// ratio that the experiments actually ran with.

import { imagesFor, measure, type EvalContext } from './eval-context.js';
import { DeviceHost } from './device-host.js';
import type { DeviceClass } from './results.js';
import { quantile } from './stats.js';
import { loadManifest } from './reference-exits.js';

export async function measureDeviceClasses(
  ctx: EvalContext,
  spawn: (fraction: number) => Promise<DeviceHost>,
): Promise<DeviceClass[]> {
  ctx.setLink({ mbps: 100, rttMs: 0 });
  const n = 12;
  // A longer warm-up than the experiments': a freshly spawned device's JIT threads keep compiling for a few
  // seconds, and under a CPU quota that work is charged to the measured requests.
  const warm = { ...ctx.cfg, warmup: 20 };
  const fixed = (split: number) => ({
    job: { sla: undefined, plan: { split, threshold: 1 }, images: imagesFor(warm, n), warmup: warm.warmup },
    n,
  });
  const server = await measure(ctx, 'server-only', {}, fixed(0));
  const serverFullMs = quantile(
    server.records.filter((r) => r.serverMs !== null).map((r) => r.serverMs!),
    0.5,
  );
  const out: DeviceClass[] = [];
  for (const fraction of ctx.cfg.deviceClasses) {
    const main = fraction === ctx.cfg.deviceClasses[0];
    const host = main ? ctx.device : await spawn(fraction);
    try {
      const dev = await measure(
        { ...ctx, device: host },
        'device-only',
        {},
        fixed(loadManifest().blocks.length),
      );
      const deviceFullMs = quantile(
        dev.records.map((r) => r.deviceMs),
        0.5,
      );
      out.push({
        cpuFraction: fraction,
        label: host.describe(),
        deviceFullMs,
        serverFullMs,
        ratio: deviceFullMs / serverFullMs,
      });
      ctx.log(
        `[device] ${(fraction * 100).toFixed(0)} % of a core: full model ${deviceFullMs.toFixed(1)} ms on the device, ` +
          `${serverFullMs.toFixed(1)} ms on the server → ratio ${(deviceFullMs / serverFullMs).toFixed(1)}`,
      );
    } finally {
      if (!main) await host.close();
    }
  }
  return out;
}
