// Two ways to run a VM from the same VmSpec:
//   qemu     qemu started directly inside the lab's network namespace
//            (-daemonize, pid file). Needs no daemon: the embedded path.
//   libvirt  a libvirt domain (virsh define/start/destroy/undefine) whose
//            emulator is a wrapper entering the lab's namespace. What the
//            Pulumi program and a training team's libvirt host use.
// Both leave the same things on disk (vmPaths) and talk to the same agent.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../util/exec.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { labStateDir } from '../common/state-dir.ts';
import { DOMAIN_PREFIX, METADATA_NS } from './names.ts';
import { networkNetnsName } from '../common/names.ts';
import { domainXml, emulatorWrapper, qemuArgv, type VmSpec } from './vm-spec.ts';

export type BackendKind = 'qemu' | 'libvirt';

export interface VmBackend {
  readonly kind: BackendKind;
  /** Defines (libvirt) and starts the VM; its disk and tap must exist. */
  start(spec: VmSpec): Promise<void>;
  /** Stops the VM and forgets it (undefine); no error if it is not there. */
  destroy(lab: string, node: string, domain: string): Promise<void>;
  isRunning(domain: string, lab: string, node: string): Promise<boolean>;
  /** Domain names of this lab's VMs that exist (running or defined). */
  list(lab: string): Promise<string[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The qemu pid of a VM if its pid file names a live qemu for this domain (pids get reused). */
export function qemuPid(pidFile: string, domain: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!pid || !alive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(`guest=${domain},`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class QemuBackend implements VmBackend {
  readonly kind = 'qemu' as const;

  constructor(private readonly qemu = 'qemu-system-x86_64') {}

  async start(spec: VmSpec): Promise<void> {
    mkdirSync(spec.paths.dir, { recursive: true });
    for (const f of [spec.paths.agentSocket, spec.paths.consoleSocket, spec.paths.qmpSocket, spec.paths.pidFile]) rmSync(f, { force: true });
    // -daemonize returns once the VM is set up; the pid file names the qemu.
    await run(['ip', 'netns', 'exec', networkNetnsName(spec.lab), ...qemuArgv(spec, this.qemu)], { where: `${spec.node} (qemu)`, timeoutMs: 60_000 });
    if (!qemuPid(spec.paths.pidFile, spec.domain)) {
      throw new EnvironmentError(`${spec.node}: qemu started but is not running; see ${spec.paths.consoleLog}`);
    }
  }

  async destroy(lab: string, node: string, domain: string, pidFile?: string): Promise<void> {
    const file = pidFile ?? join(labStateDir(lab), 'vms', node, 'qemu.pid');
    const pid = qemuPid(file, domain);
    if (!pid) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
  }

  async isRunning(domain: string, lab: string, node: string): Promise<boolean> {
    return qemuPid(join(labStateDir(lab), 'vms', node, 'qemu.pid'), domain) !== undefined;
  }

  async list(lab: string): Promise<string[]> {
    const dir = join(labStateDir(lab), 'vms');
    if (!existsSync(dir)) return [];
    const { readdirSync } = await import('node:fs');
    return readdirSync(dir)
      .map((node) => ({ node, domain: `${DOMAIN_PREFIX}${lab}-${node}` }))
      .filter((v) => qemuPid(join(dir, v.node, 'qemu.pid'), v.domain) !== undefined)
      .map((v) => v.domain);
  }
}

export class LibvirtBackend implements VmBackend {
  readonly kind = 'libvirt' as const;

  constructor(readonly uri = 'qemu:///system', private readonly qemu = '/usr/bin/qemu-system-x86_64') {}

  private virsh(args: string[], allowFailure = false) {
    return run(['virsh', '-q', '-c', this.uri, ...args], { where: `libvirt ${this.uri}`, allowFailure, timeoutMs: 180_000 });
  }

  /** libvirt runs this instead of qemu; it enters the lab's network namespace first. */
  emulatorFor(lab: string): string {
    const path = join(labStateDir(lab), 'qemu-in-netns');
    const text = emulatorWrapper(networkNetnsName(lab), this.qemu);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      mkdirSync(labStateDir(lab), { recursive: true });
      writeFileSync(path, text);
      chmodSync(path, 0o755);
    }
    return path;
  }

  async start(spec: VmSpec): Promise<void> {
    mkdirSync(spec.paths.dir, { recursive: true });
    const xmlFile = join(spec.paths.dir, 'domain.xml');
    // On a user's network or bridge libvirt makes the tap; qemu needs no lab namespace then.
    writeFileSync(xmlFile, domainXml(spec, spec.nic ? this.qemu : this.emulatorFor(spec.lab)));
    await this.virsh(['define', xmlFile]);
    await this.virsh(['start', spec.domain]);
  }

  async destroy(_lab: string, _node: string, domain: string): Promise<void> {
    const state = await this.virsh(['domstate', domain], true);
    if (state.code !== 0) return; // not defined
    if (state.stdout.trim() !== 'shut off') await this.virsh(['destroy', domain], true);
    await this.virsh(['undefine', domain], true);
  }

  async isRunning(domain: string): Promise<boolean> {
    const state = await this.virsh(['domstate', domain], true);
    return state.code === 0 && state.stdout.trim() === 'running';
  }

  async list(lab: string): Promise<string[]> {
    const r = await this.virsh(['list', '--all', '--name']);
    const mine: string[] = [];
    for (const name of r.stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(`${DOMAIN_PREFIX}${lab}-`))) {
      // Names alone are ambiguous (lab "a" owns "svclab-a-b-node-01"? or lab "a-b"?): read the metadata.
      const md = await this.virsh(['metadata', name, METADATA_NS], true);
      if (new RegExp(`lab=["']${lab}["']`).test(md.stdout)) mine.push(name);
    }
    return mine;
  }

  /** Can we talk to libvirtd at this URI? */
  async reachable(): Promise<boolean> {
    return (await this.virsh(['version'], true)).code === 0;
  }
}
