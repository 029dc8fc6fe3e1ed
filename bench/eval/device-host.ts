// The runner's handle on an emulated device: spawns bench/eval/device-process.ts (optionally inside the network
// namespace of the kernel link) for one model and device model, and throttles it to its device class with a real
// cgroup v1 CPU quota while it runs a job — the whole process ('process': cgroup.procs) or only its inference
// thread ('nn': the thread's id into `tasks`) — and releases it between jobs, so loading clients is not slowed
// down (loading is setup, not measured).

import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createCpuQuota, type CpuQuota } from '../../harness/cpu-quota.js';
import type { DeviceJob, FromDevice, RequestRecord, ToDevice } from './device-protocol.js';
import { DEVICE_MODEL_TEXT, type DeviceModel } from './grid.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface DeviceHostOptions {
  model: string;
  deviceModel: DeviceModel;
  /** Share of one core (e.g. 0.25); setCpu changes it between jobs. */
  cpu: number;
  edgeUrl: string;
  /** The edge's API key (the stack's), handed to the device's client. */
  apiKey: string;
  /** Folder of <model>/manifest.json the device reads (the calibration manifests). */
  manifestDir: string;
  /** Name for the cgroup (several hosts may run at once). */
  name?: string;
  /** Command prefix (e.g. ['ip', 'netns', 'exec', ns]) to run the device inside a network namespace. */
  wrap?: string[];
}

export interface DeviceRun {
  records: RequestRecord[];
  wallMs: number;
}

export class DeviceHost {
  private child!: ChildProcess;
  private quota!: CpuQuota;
  /** The inference thread's id (device model 'nn'). */
  private tid: number | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(m: FromDevice): void; reject(e: Error): void }>();
  private progress: ((done: number) => void) | undefined;
  private beforeGo: (() => number | undefined) | undefined;

  private constructor(readonly o: DeviceHostOptions) {
    this.setCpu(o.cpu);
  }

  static async start(o: DeviceHostOptions): Promise<DeviceHost> {
    const h = new DeviceHost(o);
    await h.spawn();
    return h;
  }

  /** Changes the device class for the next jobs (a new cgroup with that quota). */
  setCpu(fraction: number): void {
    this.quota?.remove();
    this.quota = createCpuQuota(`${this.o.name ?? 'device'}-${Math.round(fraction * 100)}`, fraction);
  }

  /** How the device is throttled, for reports. */
  describe(): string {
    return `${DEVICE_MODEL_TEXT[this.o.deviceModel]}: ${this.quota.describe()}`;
  }

  private spawn(): Promise<void> {
    const env = {
      ...process.env,
      SPINN_EDGE_URL: this.o.edgeUrl,
      SPINN_API_KEY: this.o.apiKey,
      SPINN_MODEL: this.o.model,
      SPINN_MANIFEST_DIR: this.o.manifestDir,
      SPINN_DEVICE_MODEL: this.o.deviceModel,
    };
    const wrap = this.o.wrap ?? [];
    this.child = fork(`${ROOT}bench/eval/device-process.ts`, [], {
      cwd: ROOT,
      env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(wrap.length
        ? { execPath: wrap[0]!, execArgv: [...wrap.slice(1), process.execPath, '--import', 'tsx'] }
        : {}),
    });
    this.child.on('message', (m: FromDevice) => this.onMessage(m));
    this.child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`device process exited (${code})`));
      this.waiting.clear();
    });
    return new Promise((resolve, reject) => {
      this.waiting.set(-1, { resolve: () => resolve(), reject });
    });
  }

  private onMessage(m: FromDevice): void {
    if (m.op === 'progress') return this.progress?.(m.done);
    if (m.op === 'ready' && m.id === -1) this.tid = m.tid;
    if (m.op === 'ready' && m.id >= 0) {
      this.throttle();
      const until = this.beforeGo?.();
      this.send({ op: 'go', id: m.id, ...(until !== undefined ? { untilEpochMs: until } : {}) });
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    this.unthrottle();
    if (m.op === 'error') w.reject(new Error(`device: ${m.message}`));
    else w.resolve(m);
  }

  private throttle(): void {
    if (this.o.deviceModel === 'nn') this.quota.addThread(this.tid!);
    else this.quota.add(this.child.pid!);
  }

  /** Back to the root group: cgroup.procs moves every thread of the process, the inference thread included. */
  private unthrottle(): void {
    try {
      writeFileSync('/sys/fs/cgroup/cpu/cgroup.procs', String(this.child.pid));
    } catch {
      /* exited */
    }
  }

  private send(m: ToDevice): void {
    this.child.send(m);
  }

  private call(m: ToDevice & { id: number }): Promise<FromDevice> {
    return new Promise((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.send(m);
    });
  }

  /**
   * Runs a job on the throttled device. `beforeGo` runs once the client is loaded and throttled, just before the
   * first request; it may return a wall-clock deadline for the job.
   */
  async run(
    job: DeviceJob,
    onProgress?: (done: number) => void,
    beforeGo?: () => number | undefined,
  ): Promise<DeviceRun> {
    this.progress = onProgress;
    this.beforeGo = beforeGo;
    const m = await this.call({ op: 'run', id: this.nextId++, job });
    this.progress = undefined;
    this.beforeGo = undefined;
    if (m.op !== 'result') throw new Error(`unexpected ${m.op}`);
    if (m.records.some((r) => r.error === 'hung')) await this.restart(); // its client may never settle
    return { records: m.records, wallMs: m.wallMs };
  }

  private async restart(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.spawn();
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.send({ op: 'exit' });
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    this.quota.remove();
  }
}
