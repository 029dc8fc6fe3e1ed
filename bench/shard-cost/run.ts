// `npm run bench:shard`: what one offload costs the edge's RequestShard object on workerd's thread, against the
// floors of an object RPC and of one storage transaction (index.ts here says how each is timed). Runs the objects
// under `wrangler dev` (the setting of bench:hop's targets), in rounds that run the four loops in a shuffled order
// (bench/hop/paths.ts' schedule with blocks of one) so drift on a shared machine hits them alike; reports the median and p95 over rounds of the time per call. Prints a table, then
// one JSON line. `-- --calls N` per loop and round (default 500), `-- --rounds R` (default 9).

import Table from 'cli-table3';
import { Command } from 'commander';
import { startEdge } from '../../harness/stack.js';
import { blockSchedule, quantile } from '../hop/paths.js';
import { MODES, type Mode } from './modes.js';

const opts = new Command('bench:shard')
  .option('--calls <n>', 'calls per loop and round', Number, 500)
  .option('--rounds <n>', 'rounds (each runs every loop once, in a shuffled order)', Number, 9)
  .parse()
  .opts<{ calls: number; rounds: number }>();

const LABELS: Record<Mode, string> = {
  'rpc-floor': 'floor: an RPC answered at once (same arguments, callback included)',
  'write-floor': 'floor: an RPC that writes one key (one SQLite transaction)',
  claim: "RequestShard.claim (the offload's verdict, its record written)",
  offload: 'RequestShard.claim + finish (one whole offload, as the route makes them)',
};

const edge = await startEdge({ config: 'bench/shard-cost/wrangler.toml', apiKeys: 0, backendUrl: '' });
try {
  const perCall = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const time = async (mode: Mode, n: number, round: string): Promise<number> => {
    const res = await fetch(`${edge.url}/?mode=${mode}&n=${n}&round=${round}`);
    if (!res.ok) throw new Error(`${mode}: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { msPerCall: number }).msPerCall;
  };
  for (const mode of MODES) await time(mode, 200, 'warm'); // JIT, objects started, SQLite open
  for (const [i, k] of blockSchedule(MODES.length, opts.rounds, 1).entries()) {
    const round = Math.floor(i / MODES.length);
    perCall[MODES[k]!].push(await time(MODES[k]!, opts.calls, String(round)));
    if (i % MODES.length === MODES.length - 1) process.stderr.write(`round ${round + 1}/${opts.rounds}\n`);
  }
  const stat = (mode: Mode) => ({ p50: quantile(perCall[mode], 0.5), p95: quantile(perCall[mode], 0.95) });
  const table = new Table({ head: ['loop', 'ms per call, p50', 'p95'], style: { head: [] } });
  for (const mode of MODES) table.push([LABELS[mode], stat(mode).p50.toFixed(3), stat(mode).p95.toFixed(3)]);
  console.log(
    `${opts.rounds} rounds × ${opts.calls} sequential calls per loop, one shard object, wrangler dev (loopback, ` +
      `state in ${process.env.TMPDIR ?? '/tmp'})`,
  );
  console.log(table.toString());
  const own = stat('claim').p50 - stat('write-floor').p50;
  console.log(
    `claim over the write floor (the shard's own work beyond one RPC and one transaction): ${own.toFixed(3)} ms`,
  );
  console.log(
    JSON.stringify({
      calls: opts.calls,
      rounds: opts.rounds,
      ...Object.fromEntries(
        MODES.flatMap((m) => [
          [`${m}MsP50`, +stat(m).p50.toFixed(4)],
          [`${m}MsP95`, +stat(m).p95.toFixed(4)],
        ]),
      ),
      claimOverWriteFloorMsP50: +own.toFixed(4),
    }),
  );
} finally {
  await edge.stop();
}
