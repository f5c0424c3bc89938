// One pod's life on this node, as the kubelet's pod worker lives it: make
// (or adopt) the sandbox, start the containers, watch and restart them with
// back-off, probe readiness, report status; on deletion stop everything,
// undo the sandbox and let the API forget the pod. All steps of one pod run
// one at a time (a promise chain); different pods run side by side.
import type { Container, Pod } from '../k8s/objects.ts';
import type { ChildProcess } from 'node:child_process';
import { ProgramError, planProgram, type ProgramKind, type ProgramPlan } from './programs.ts';
import { containerLogFile, containerPidFile, containerWorkDir, podDir, podNetns, readContainerPid, netnsPath } from './pod-paths.ts';
import { createSandbox, isNetnsMounted, netnsInode, podHostname, readSandbox, removeSandbox, type Cni, type SandboxRecord } from './sandbox.ts';
import { killContainerLeftovers, killSandboxProcesses, prepareContainer, processAlive, startContainer, stopProcesses } from './containers.ts';
import { readinessProbeFor, runProbe, PROBE_PERIOD_S, type Probe } from './probes.ts';
import { renderPodStatus, statusKey, type ContainerRuntime, type PodStatus, type Terminated } from './pod-status.ts';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';

/** The API calls the kubelet makes (src/workloads/pod-api.ts over the control plane client; a fake in tests). */
export interface PodApi {
  /** Lists the node's pods (calling onAdd for each), resolves, then keeps watching. */
  watchPods(
    nodeName: string,
    h: { onAdd(p: Pod): void; onUpdate(p: Pod): void; onDelete(p: Pod): void },
  ): Promise<{ stop(): void }>;
  /** Writes the status subresource of the pod (ns/name, uid-checked by the caller's pod). */
  putStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** DELETE with gracePeriodSeconds=0 (and the uid as precondition): the kubelet's final word. */
  deletePod(pod: Pod): Promise<void>;
}

export interface KubeletOptions {
  nodeName: string;
  nodeIP: string;
  /** http://192.168.49.2:6443 or a unix socket path. */
  api: string;
  labName: string;
  /** /var/lib/svclab/<lab>: pods/<ns>_<pod>/… and cache/. */
  stateDir: string;
  cniConfDir: string;
  /** "svclab-<lab>-p-" */
  netnsPrefix: string;
  /** dist/svclab.mjs, for netexec containers. */
  bundle: string;
  dnsIP: string;
  clusterDomain: string;
  dnsHostsDir: string;
}

export interface WorkerEnv {
  opts: KubeletOptions;
  api: PodApi;
  cni: Cni;
  resolveImage(image: string): ProgramKind | undefined;
  knownImages: readonly string[];
  nodeBinary: string;
  log(line: string): void;
}

/** Upstream caps at 300 s from 10 s; a lab wants to see a fix take effect quickly. */
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** A container that ran this long starts its back-off afresh (upstream: 10 min). */
const BACKOFF_RESET_MS = 60_000;
/** Upstream's default grace is 30 s; a lab caps it so deletes and scale-downs feel immediate. */
export const LAB_MAX_GRACE_S = 5;
/** How long a dead child's 'exit' event (with its exit code) may lag behind /proc showing it gone. */
const EXIT_EVENT_WAIT_MS = 2000;

interface ContainerRun extends ContainerRuntime {
  spec: Container;
  kind?: ProgramKind;
  plan?: ProgramPlan;
  probe?: Probe;
  child?: ChildProcess;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Resolves when the child's 'exit' event has set `exit`. */
  exitSeen?: Promise<void>;
  startedMs?: number;
  nextStartMs?: number;
  backoffMs: number;
  nextProbeMs: number;
  successes: number;
  failures: number;
  /** Since the last (re)start: only the first Ready is timed in the log. */
  everReady?: boolean;
  /** A config problem no restart can fix (unknown image, bad env): never started. */
  blocked?: boolean;
}

const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export class PodWorker {
  pod: Pod;
  readonly ns: string;
  readonly name: string;
  readonly netns: string;
  readonly dir: string;
  private sandbox?: SandboxRecord;
  private containers: ContainerRun[] = [];
  private startTime = iso();
  private problem?: { reason: string; message: string };
  private lastKey = '';
  private lastStatus?: PodStatus;
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  /** failed: the sandbox could not be made; start() is retried with back-off from tick(). */
  state: 'new' | 'running' | 'failed' | 'blocked' | 'terminating' | 'gone' = 'new';
  /** Set once a termination is queued, so later updates of the deleted pod do not queue another. */
  terminationQueued = false;
  private retryMs = BACKOFF_START_MS;
  private retryAt = 0;

  constructor(pod: Pod, private env: WorkerEnv) {
    this.pod = pod;
    this.ns = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    this.netns = podNetns(env.opts.netnsPrefix, this.ns, this.name);
    this.dir = podDir(env.opts.stateDir, this.ns, this.name);
    this.lastStatus = pod.status;
    if (pod.status?.startTime) this.startTime = pod.status.startTime;
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  private say(msg: string): void {
    this.env.log(`${this.ns}/${this.name}: ${msg}`);
  }

  /** Runs fn after everything queued before it; errors are logged, not thrown. */
  enqueue(what: string, fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      this.busy = true;
      try {
        await fn();
      } catch (err) {
        this.say(`${what} failed: ${(err as Error).message}`);
      } finally {
        this.busy = false;
      }
    });
    return this.chain;
  }

  get idle(): boolean {
    return !this.busy;
  }

  // ---- start -------------------------------------------------------------------

  /** Makes or adopts the sandbox and starts the containers; a failure is reported and retried with back-off. */
  async start(): Promise<void> {
    try {
      await this.startPod();
      this.retryMs = BACKOFF_START_MS;
    } catch (err) {
      if (this.state === 'terminating' || this.state === 'gone') return;
      this.state = 'failed';
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, BACKOFF_MAX_MS);
      this.retryAt = Date.now() + wait;
      // Upstream's event reason for a sandbox that could not be made.
      this.problem = { reason: 'FailedCreatePodSandBox', message: (err as Error).message };
      this.say(`cannot start, retrying in ${Math.round(wait / 1000)}s: ${(err as Error).message}`);
      await this.report().catch(() => {});
    }
  }

  private async startPod(): Promise<void> {
    this.problem = undefined;
    const spec = this.pod.spec;
    this.containers = (spec?.containers ?? []).map((c: Container) => {
      const old = this.pod.status?.containerStatuses?.find((s: { name: string }) => s.name === c.name);
      return { spec: c, name: c.name, image: c.image ?? '', ready: false, restartCount: old?.restartCount ?? 0, backoffMs: BACKOFF_START_MS, nextProbeMs: 0, successes: 0, failures: 0 };
    });
    if (spec?.hostNetwork) return this.block('HostNetworkNotSupported', 'svclab runs every pod in its own network namespace; hostNetwork pods are not supported');
    for (const c of this.containers) {
      c.kind = this.env.resolveImage(c.image);
      if (!c.kind) {
        const message = `svclab has no local program for image "${c.image}"; it runs: ${this.env.knownImages.join(', ')}`;
        c.waiting = { reason: 'ErrImagePull', message };
        c.blocked = true;
        return this.block('ErrImagePull', `container ${c.name}: ${message}`);
      }
    }
    const adopted = await this.adoptSandbox();
    if (!adopted) {
      const t0 = Date.now();
      this.sandbox = await createSandbox(
        { pod: this.pod, nodeName: this.env.opts.nodeName, netns: this.netns, podDir: this.dir, cniConfDir: this.env.opts.cniConfDir, dnsIP: this.env.opts.dnsIP, clusterDomain: this.env.opts.clusterDomain },
        this.env.cni,
      );
      this.say(`sandbox ready: ip ${this.sandbox.ip}, netns ${this.netns} (${Date.now() - t0} ms)`);
    }
    for (const c of this.containers) {
      try {
        c.plan = planProgram(c.kind!, c.spec, {
          pod: this.pod,
          podIP: this.sandbox!.ip,
          hostIP: this.env.opts.nodeIP,
          workDir: containerWorkDir(this.dir, c.name),
          bundle: this.env.opts.bundle,
          nodeBinary: this.env.nodeBinary,
          dnsHostsDir: this.env.opts.dnsHostsDir,
        });
        c.probe = readinessProbeFor(c.spec, c.plan.readinessOverride);
      } catch (err) {
        if (!(err instanceof ProgramError)) throw err;
        c.waiting = { reason: err.reason, message: err.message };
        c.blocked = true;
        this.say(`container ${c.name}: ${err.reason}: ${err.message}`);
      }
    }
    this.state = 'running';
    for (const c of this.containers) if (!c.blocked && c.pid === undefined) await this.startOne(c, c.startedAt !== undefined);
    await this.report();
  }

  private async block(reason: string, message: string): Promise<void> {
    this.problem = { reason, message };
    this.state = 'blocked';
    this.say(`cannot start: ${message}`);
    await this.report();
  }

  /**
   * After a kubelet restart: keep the sandbox if it is this pod's (same uid)
   * and its netns is still mounted, and keep every container whose recorded
   * pid still lives in that netns. Anything else left behind is removed.
   */
  private async adoptSandbox(): Promise<boolean> {
    const rec = await readSandbox(this.dir);
    if (!rec) {
      // A crash between `ip netns add` and sandbox.json leaves a netns without a record.
      if (netnsInode(netnsPath(this.netns)) !== undefined) await this.cleanup(undefined);
      return false;
    }
    if (rec.nodeName !== this.env.opts.nodeName) {
      // The nodes of a netns lab share one state dir and netns names: this is
      // the sandbox of the previous pod with this name, on another node. Its
      // kubelet removes it; this one never touches another node's pods.
      throw new Error(`the sandbox ${this.netns} still belongs to pod uid ${rec.uid || '?'} on node ${rec.nodeName || '?'}; waiting for that node's kubelet to remove it`);
    }
    const path = netnsPath(this.netns);
    if (rec.uid !== this.uid || !isNetnsMounted(path) || netnsInode(path) !== rec.netnsIno) {
      this.say(`removing a stale sandbox (pod uid ${rec.uid || '?'}, netns ${isNetnsMounted(path) ? 'present' : 'gone'})`);
      await this.cleanup(rec);
      return false;
    }
    this.sandbox = rec;
    const statuses = this.pod.status?.containerStatuses ?? [];
    for (const c of this.containers) {
      const pid = readContainerPid(this.dir, c.name);
      if (pid && processAlive(pid, rec.netnsIno)) {
        const st = statuses.find((s: { name: string }) => s.name === c.name);
        c.pid = pid;
        c.startedAt = st?.state?.running?.startedAt ?? iso();
        c.startedMs = Date.parse(c.startedAt);
        // Keep the reported readiness until a probe says otherwise, so a
        // kubelet restart does not pull the pod out of its Services.
        c.ready = st?.ready === true;
        c.successes = c.ready ? 1 : 0;
        c.everReady = c.ready;
        this.say(`adopted container ${c.name} (pid ${pid})`);
        continue;
      }
      if (pid) await this.killLeftovers(c, pid, rec.netnsIno);
      if (pid && statuses.find((s: { name: string }) => s.name === c.name)?.state?.terminated) {
        // Ended for good under restartPolicy Never/OnFailure before the kubelet restarted.
        c.terminated = statuses.find((s: { name: string }) => s.name === c.name)!.state!.terminated as Terminated;
        c.lastTerminated = c.terminated;
      } else if (pid) {
        // It ran and died while no kubelet watched: a restart like any other.
        c.lastTerminated = { exitCode: 255, reason: 'Unknown', message: 'exited while the kubelet was down', finishedAt: iso() };
        c.restartCount += 1;
      }
    }
    this.say(`adopted sandbox ${this.netns} (ip ${rec.ip})`);
    return true;
  }

  /** Removes a sandbox and kills whatever still runs in its netns (an escaped child, a leftover exec). */
  private async cleanup(rec: SandboxRecord | undefined): Promise<void> {
    await killSandboxProcesses(this.netns, this.dir, rec);
    const problems = await removeSandbox(
      { pod: this.pod, nodeName: this.env.opts.nodeName, netns: this.netns, podDir: this.dir, cniConfDir: this.env.opts.cniConfDir, cniResult: rec?.cniResult },
      this.env.cni,
    );
    for (const p of problems) this.say(`cleanup: ${p}`);
  }

  /** Starts one container; if that fails (a missing binary, a datadir that cannot be made) it is retried with back-off. */
  private async startOne(c: ContainerRun, restart: boolean): Promise<void> {
    try {
      await this.launch(c, restart);
    } catch (err) {
      const wait = c.backoffMs;
      c.backoffMs = Math.min(c.backoffMs * 2, BACKOFF_MAX_MS);
      c.nextStartMs = Date.now() + wait;
      c.waiting = { reason: 'RunContainerError', message: (err as Error).message };
      this.say(`container ${c.name} failed to start, retrying in ${Math.round(wait / 1000)}s: ${(err as Error).message}`);
    }
  }

  private async launch(c: ContainerRun, restart: boolean): Promise<void> {
    const plan = c.plan!;
    const t0 = Date.now();
    const timings = await prepareContainer(plan, join(this.env.opts.stateDir, 'cache'));
    const prepMs = Date.now() - t0;
    const started = await startContainer({
      netns: this.netns,
      hostname: podHostname(this.pod),
      plan,
      cwd: containerWorkDir(this.dir, c.name),
      logFile: containerLogFile(this.dir, c.name),
      pidFile: containerPidFile(this.dir, c.name),
    });
    c.pid = started.pid;
    c.child = started.child;
    c.exit = undefined;
    c.exitSeen = new Promise((resolve) =>
      started.child.once('exit', (code, signal) => {
        if (c.child === started.child) c.exit = { code, signal };
        resolve();
      }),
    );
    c.startedMs = Date.now();
    c.startedAt = iso(c.startedMs);
    c.waiting = undefined;
    c.ready = false;
    c.everReady = false;
    c.successes = c.failures = 0;
    c.nextProbeMs = c.startedMs + (c.probe?.initialDelaySeconds ?? 0) * 1000;
    if (!c.probe) c.ready = true;
    const extra = [
      timings.templateMs !== undefined ? `datadir template ${timings.templateMs} ms` : '',
      timings.copyMs !== undefined ? `datadir copy ${timings.copyMs} ms` : '',
      prepMs > 50 && timings.copyMs === undefined ? `prepared in ${prepMs} ms` : '',
    ].filter(Boolean);
    this.say(`container ${c.name} ${restart ? `restarted (restart ${c.restartCount})` : 'started'}: ${plan.kind} pid ${c.pid}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }

  // ---- the periodic look ---------------------------------------------------------

  /** Every kubelet tick: notice exits, restart after back-off, probe when due, report changes. */
  async tick(): Promise<void> {
    const now = Date.now();
    if (this.state === 'failed' && now >= this.retryAt) await this.start();
    if (this.state !== 'running') return;
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    for (const c of this.containers) {
      if (c.blocked || c.terminated) continue;
      if (c.pid !== undefined && !processAlive(c.pid, this.sandbox!.netnsIno)) {
        // /proc can show the child gone a moment before its 'exit' event brings the code.
        if (c.child && !c.exit) await waitOrTimeout(c.exitSeen, EXIT_EVENT_WAIT_MS);
        await this.killLeftovers(c, c.pid, this.sandbox!.netnsIno);
        this.exited(c, policy, now);
      }
      if (c.pid === undefined && c.nextStartMs !== undefined && now >= c.nextStartMs) {
        c.nextStartMs = undefined;
        // Only a container that ran counts a restart (a failed first start does not).
        const restart = c.startedAt !== undefined;
        if (restart) c.restartCount += 1;
        await this.startOne(c, restart);
      }
    }
    await Promise.all(this.containers.filter((c) => c.pid !== undefined && c.probe && now >= c.nextProbeMs).map((c) => this.probe(c, now)));
    await this.report();
  }

  /** A container is gone when its main process is: what it left running goes too (see containerLeftovers). */
  private async killLeftovers(c: ContainerRun, pid: number, netnsIno: number): Promise<void> {
    const left = await killContainerLeftovers(pid, netnsIno);
    if (left.length) this.say(`container ${c.name}: killed ${left.length} process(es) its ended pid ${pid} left running (${left.join(', ')})`);
  }

  private exited(c: ContainerRun, policy: string, now: number): void {
    const code = c.exit ? (c.exit.code ?? 128 + signalNumber(c.exit.signal)) : 255;
    const t: Terminated = {
      exitCode: code,
      reason: c.exit ? (code === 0 ? 'Completed' : 'Error') : 'Unknown',
      startedAt: c.startedAt,
      finishedAt: iso(now),
      ...(c.exit?.signal ? { signal: signalNumber(c.exit.signal) } : {}),
    };
    c.pid = undefined;
    c.child = undefined;
    c.exitSeen = undefined;
    c.ready = false;
    c.lastTerminated = t;
    if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) {
      c.terminated = t;
      this.say(`container ${c.name} exited with code ${code}; restartPolicy ${policy}: not restarting`);
      return;
    }
    if (c.startedMs !== undefined && now - c.startedMs >= BACKOFF_RESET_MS) c.backoffMs = BACKOFF_START_MS;
    const wait = c.backoffMs;
    c.backoffMs = Math.min(c.backoffMs * 2, BACKOFF_MAX_MS);
    c.nextStartMs = now + wait;
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(wait / 1000)}s restarting failed container=${c.name} pod=${this.name}_${this.ns}(${this.uid})`,
    };
    this.say(`container ${c.name} exited with code ${code}; restarting in ${Math.round(wait / 1000)}s`);
  }

  private async probe(c: ContainerRun, now: number): Promise<void> {
    const p = c.probe!;
    // Until the first success, probe at every tick: Ready should follow a port opening within a tick.
    c.nextProbeMs = c.everReady ? now + Math.max(1, p.periodSeconds ?? PROBE_PERIOD_S) * 1000 : now;
    const r = await runProbe(p, { podIP: this.sandbox!.ip, pid: c.pid, container: c.spec });
    if (c.pid === undefined) return;
    if (r.ok) {
      c.failures = 0;
      c.successes += 1;
      if (!c.ready && c.successes >= (p.successThreshold ?? 1)) {
        c.ready = true;
        const first = !c.everReady;
        c.everReady = true;
        this.say(`container ${c.name} ready${first ? ` (${Date.now() - (c.startedMs ?? now)} ms after start)` : ''}`);
      }
    } else {
      c.successes = 0;
      c.failures += 1;
      if (c.ready && c.failures >= (p.failureThreshold ?? 3)) {
        c.ready = false;
        this.say(`container ${c.name} not ready: ${r.message}`);
      }
    }
  }

  private async report(): Promise<void> {
    const status = renderPodStatus(
      this.lastStatus,
      { podIP: this.sandbox?.ip, hostIP: this.env.opts.nodeIP, startTime: this.startTime, containers: this.containers, problem: this.problem },
      iso(),
    );
    const key = statusKey(status);
    if (key === this.lastKey) return;
    const before = this.lastStatus;
    await this.env.api.putStatus(this.pod, status);
    this.lastKey = key;
    this.lastStatus = status;
    const ready = (s?: PodStatus) => s?.conditions?.find((x: { type: string }) => x.type === 'Ready')?.status === 'True';
    if (before?.phase !== status.phase || ready(before) !== ready(status)) {
      this.say(`${before?.phase ?? 'new'} -> ${status.phase}${ready(status) ? ', Ready' : ', not Ready'}${status.podIP ? ` (ip ${status.podIP})` : ''}`);
    }
  }

  // ---- the end --------------------------------------------------------------------

  /**
   * Stops the containers (TERM, KILL after the grace period capped at
   * LAB_MAX_GRACE_S), undoes the sandbox and, when the API asked for it
   * (deletionTimestamp), tells it the pod is gone.
   */
  async terminate(deleteFromApi: boolean): Promise<void> {
    if (this.state === 'gone') return;
    this.state = 'terminating';
    const asked = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    const grace = Math.min(asked, LAB_MAX_GRACE_S);
    const pids = this.containers.map((c) => c.pid).filter((p): p is number => p !== undefined);
    this.say(`terminating: ${pids.length} container(s), grace ${grace}s`);
    const killed = this.sandbox ? await stopProcesses(pids, grace * 1000, this.sandbox.netnsIno) : false;
    if (killed) this.say(`killed after the ${grace}s grace period`);
    for (const c of this.containers) c.pid = undefined;
    const rec = this.sandbox ?? (await readSandbox(this.dir));
    if (rec || netnsInode(netnsPath(this.netns)) !== undefined) await this.cleanup(rec);
    else await rm(this.dir, { recursive: true, force: true });
    this.sandbox = undefined;
    this.state = 'gone';
    if (deleteFromApi) await this.env.api.deletePod(this.pod);
    this.say(deleteFromApi ? 'deleted' : 'removed (gone from the API)');
  }
}

async function waitOrTimeout(p: Promise<void> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function signalNumber(sig: NodeJS.Signals | null): number {
  const n: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return sig ? (n[sig] ?? 0) : 0;
}
