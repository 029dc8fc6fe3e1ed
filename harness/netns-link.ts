// The kernel option for bandwidth: a network namespace joined to the host by a veth pair, with `tbf` rate limits on
// both ends (host→device and device→host). The kernel here has no `netem`, but tbf works inside namespaces, so the
// kernel can shape bandwidth while the user-space link proxy (listening on the host end) adds delay, loss and
// outages. The device process runs inside the namespace (`ip netns exec`). Needs root and iproute2.

import { execFileSync } from 'node:child_process';

export interface NetnsLink {
  ns: string;
  /** Address of the host end (where the link proxy listens), and of the device end. */
  hostIp: string;
  nsIp: string;
  /** Command prefix that runs a program inside the namespace. */
  exec: string[];
  mbps: number;
  setRate(mbps: number): void;
  describe(): string;
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const tc = (...args: string[]) => execFileSync('tc', args, { stdio: 'pipe' });

/** tbf parameters: a bucket of ~1.5 ticks at 250 Hz (and at least two MTUs) keeps bursts small at low rates. */
function tbfArgs(mbps: number): string[] {
  const rateBps = (mbps * 1e6) / 8;
  const burst = Math.max(3028, Math.ceil((rateBps / 250) * 1.5));
  return ['tbf', 'rate', `${Math.round(mbps * 1000)}kbit`, 'burst', String(burst), 'latency', '2000ms'];
}

export function createNetnsLink(name: string, mbps: number, subnet = '10.77.0'): NetnsLink {
  const ns = `${name}-${process.pid}`;
  const host = `vh${process.pid % 100000}`;
  const peer = `vn${process.pid % 100000}`;
  const link: NetnsLink = {
    ns,
    hostIp: `${subnet}.1`,
    nsIp: `${subnet}.2`,
    exec: ['ip', 'netns', 'exec', ns],
    mbps,
    setRate(m) {
      if (!Number.isFinite(m)) m = 10_000;
      tc('qdisc', 'replace', 'dev', host, 'root', ...tbfArgs(m));
      ip('netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', peer, 'root', ...tbfArgs(m));
      link.mbps = m;
    },
    describe: () => `kernel tbf ${link.mbps} Mbit/s each way on veth ${host}↔${peer} (netns ${ns})`,
    close() {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* gone */
      }
      try {
        ip('link', 'del', host);
      } catch {
        /* deleted with the namespace */
      }
    },
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', ns);
    ip('addr', 'add', `${link.hostIp}/24`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${link.nsIp}/24`, 'dev', peer);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    link.setRate(mbps);
  } catch (e) {
    link.close();
    throw new Error(`kernel link emulation needs root, iproute2 and tbf: ${String(e)}`);
  }
  return link;
}
