// The `libvirt` driver: every node of a lab is a VM booted from the offline
// base image, on a bridge in the lab's own network namespace, reached only
// through its guest agent. Hands out LabNodes like the netns driver, so the
// CNI, control plane, proxy, workloads and scenarios run unchanged on VMs.
//
// Backends (see backends.ts): `libvirt` when libvirtd answers, else `qemu`
// started directly; both run qemu inside the lab's namespace.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../../util/errors.ts';
import { run } from '../../util/exec.ts';
import type { DriverCapabilities, DriverProgress, LabDriver } from '../driver.ts';
import { defaultBundle } from '../common/bundle.ts';
import { toLabNetworkLayout, type LayoutInput } from '../common/layout.ts';
import { killNetnsProcesses, listNetns } from '../common/namespaces.ts';
import { netnsName, networkNetnsName } from '../common/names.ts';
import { labStateDir } from '../common/state-dir.ts';
import { NetnsNode } from '../netns/node.ts';
import { LibvirtBackend, type VmBackend } from './backends.ts';
import {
  VM_DEFAULTS, configureNode, connectNode, createNodeVolume, destroyLabVms, pickBackend, startNodeVm, vmSpec,
  type VmLabLayout, type VmOptions,
} from './lab-vms.ts';
import { applyNetSteps, deleteNetwork, planNetwork } from './network.ts';
import { VmNode } from './vm-node.ts';
import { vmPaths } from './names.ts';
import { resolveBaseImage } from './volume.ts';
import { forwardAlive, readForwardRecord, startForward, waitForSocket, writeForwardRecord } from './forward.ts';

export interface LibvirtDriverOptions extends VmOptions {
  /** Base image file (vmlinuz/initrd.img beside it); default: the cached `svclab image build`. */
  image?: string;
  /** The svclab bundle on the host; copied to the same path in every VM, so node argv are the same everywhere. */
  bundle?: string;
}

export interface VmLab {
  lab: string;
  nodes: VmNode[];
  /** The external client: a namespace on the lab bridge (on this host), as on the netns driver. */
  external: NetnsNode;
  backend: VmBackend['kind'];
}

const now = () => performance.now();

/** Where the lab's API forwarder is recorded (removed with the state dir by down). */
function forwardRecordPath(lab: string): string {
  return join(labStateDir(lab), 'forward.json');
}


/** The lab loader's layout names the lab `name`; the driver's own calls use `lab`. */
export type VmLayoutInput = LayoutInput<VmLabLayout['nodes'][number]>;
const toVmLayout = (layout: VmLayoutInput): VmLabLayout => toLabNetworkLayout(layout);

/**
 * VMs: their own kernel (Debian's, with ip_vs), their own programs and files
 * (the base image), behind a node network this host does not route to.
 */
export const LIBVIRT_CAPABILITIES: DriverCapabilities = {
  sharesHostKernel: false,
  needsHostTools: false,
  sharesHostFilesystem: false,
  hostReachesNodeNetwork: false,
  sweepsByName: false,
  nodesOutliveLab: true,
  // Under TCG every Node process in a VM costs seconds of CPU (the API answered ~25 s after start here).
  timeScale: 6,
  hasIPVS: async () => true,
};

export class LibvirtDriver implements LabDriver {
  readonly name = 'libvirt' as const;
  readonly capabilities = LIBVIRT_CAPABILITIES;
  /** Seconds per phase of the last `up` (image, network, volumes, boot, configure). */
  readonly times: Record<string, number> = {};

  constructor(private readonly opts: LibvirtDriverOptions = {}) {}

  async preflight(): Promise<void> {
    if (process.getuid?.() !== 0) throw new EnvironmentError('the libvirt driver must run as root (namespaces, taps, qemu)');
    for (const tool of ['qemu-system-x86_64', 'qemu-img', 'ip']) {
      const r = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
      if (r.code !== 0) throw new EnvironmentError(`${tool} is not installed`, 'run scripts/setup-vm-host.sh');
    }
    if (!existsSync('/dev/net/tun')) throw new EnvironmentError('/dev/net/tun is missing: VMs need tap devices');
    resolveBaseImage(this.opts.image);
  }

  /**
   * The bundle is copied to the same absolute path inside every VM, so the
   * argv that start daemons are the same on VMs and on the external client
   * (a namespace on this host); `node` is Debian's Node 18 in the VMs.
   */
  runtime(): { nodeBin: string; bundle: string } {
    return { nodeBin: 'node', bundle: this.opts.bundle ?? defaultBundle() };
  }

  async exists(lab: string): Promise<boolean> {
    if ((await listNetns()).includes(networkNetnsName(lab))) return true;
    return existsSync(`${labStateDir(lab)}/vms`);
  }

  async up(input: VmLayoutInput, progress: DriverProgress = () => {}): Promise<VmLab> {
    const layout = toVmLayout(input);
    if (await this.exists(layout.lab)) {
      throw new EnvironmentError(`lab ${layout.lab} already has a network or VMs`, `run \`svclab down ${layout.lab}\` first`);
    }
    const phase = async <T>(name: string, detail: string, fn: () => Promise<T>): Promise<T> => {
      progress(name, detail);
      const t0 = now();
      try {
        return await fn();
      } finally {
        this.times[name] = Math.round((now() - t0) / 100) / 10;
      }
    };
    const base = resolveBaseImage(this.opts.image);
    const backend = await pickBackend(this.opts);
    mkdirSync(labStateDir(layout.lab), { recursive: true });
    try {
      await phase('network', `${networkNetnsName(layout.lab)} (bridge br0, gateway ${layout.gateway})`, () => applyNetSteps(planNetwork(layout)));
      await phase('volumes', `overlays on ${base.root}`, () => Promise.all(layout.nodes.map((n) => createNodeVolume(layout.lab, n.name, base))));
      const specs = await Promise.all(layout.nodes.map((_, i) => vmSpec(layout, i, base, this.opts)));
      await phase('start', `${specs.length} VMs (${backend.kind}, ${specs[0]?.accel}, ${specs[0]?.memoryMiB} MiB each)`, async () => {
        // One at a time: libvirt defines and qemu startups are CPU-heavy here.
        for (const [i, s] of specs.entries()) await startNodeVm(s, i, backend);
      });
      const nodes = await phase('boot', 'waiting for the guest agents', () =>
        Promise.all(layout.nodes.map((n) => connectNode(layout.lab, n, this.opts.bootTimeoutMs ?? VM_DEFAULTS.bootTimeoutMs))));
      for (const vm of nodes) vm.timeScale = this.capabilities.timeScale;
      const file = this.runtime().bundle;
      const bundle = existsSync(file) ? { host: file, guest: file } : undefined;
      await phase('configure', bundle ? `sysctls, routes, ${bundle.host}` : 'sysctls, routes', () =>
        Promise.all(nodes.map((vm) => configureNode(vm, layout, bundle))));
      return { lab: layout.lab, nodes, external: this.external(layout), backend: backend.kind };
    } catch (err) {
      await this.down(layout.lab, layout.external.name).catch(() => {});
      throw err;
    }
  }

  /** The nodes of a lab that is up (connections open lazily). */
  async attach(input: VmLayoutInput): Promise<VmLab> {
    const layout = toVmLayout(input);
    if (!(await listNetns()).includes(networkNetnsName(layout.lab))) {
      throw new EnvironmentError(`lab ${layout.lab} is not up`, `run \`svclab up ${layout.lab} --driver libvirt\``);
    }
    const nodes = layout.nodes.map((n) => {
      const sock = vmPaths(layout.lab, n.name).agentSocket;
      if (!existsSync(sock)) throw new EnvironmentError(`lab ${layout.lab}: VM ${n.name} is not running`, `run \`svclab down ${layout.lab}\`, then up again`);
      const vm = VmNode.onSocket(n.name, n.ip, sock);
      vm.timeScale = this.capabilities.timeScale;
      return vm;
    });
    const backend = (await new LibvirtBackend(this.opts.uri).reachable()) ? 'libvirt' : 'qemu';
    await this.keepForward(layout);
    return { lab: layout.lab, nodes, external: this.external(layout), backend };
  }

  /**
   * Makes host:port on the node network (e.g. the apiserver on node-01:6443)
   * reachable from this host as a unix socket: the host itself has no route
   * into the lab. The relay runs in the external client's namespace and ends
   * with `down`; its pid is recorded beside the lab's state.
   */
  async forward(input: VmLayoutInput, socketPath: string, host: string, port: number): Promise<void> {
    const layout = toVmLayout(input);
    const pid = await startForward(this.external(layout), socketPath, host, port, join(labStateDir(layout.lab), 'logs', 'forward.log'));
    writeForwardRecord(forwardRecordPath(layout.lab), { socketPath, host, port, pid });
  }

  /** Stops the lab's forwarder and removes its socket and record (`down --keep-nodes`). */
  async unforward(lab: string): Promise<void> {
    const file = forwardRecordPath(lab);
    const rec = readForwardRecord(file);
    if (rec && forwardAlive(rec)) {
      try {
        process.kill(rec.pid, 'SIGTERM');
      } catch {
        /* gone meanwhile */
      }
    }
    if (rec) rmSync(rec.socketPath, { force: true });
    rmSync(file, { force: true });
  }

  /** Restarts the lab's forwarder if it died (a killed process, a reboot of this host). */
  private async keepForward(layout: VmLabLayout): Promise<void> {
    const rec = readForwardRecord(forwardRecordPath(layout.lab));
    if (!rec || forwardAlive(rec)) return;
    await this.forward(layout, rec.socketPath, rec.host, rec.port);
    await waitForSocket(rec.socketPath, 10_000);
  }

  private external(layout: VmLabLayout): NetnsNode {
    return new NetnsNode(layout.external.name, layout.external.ip, netnsName(layout.lab, layout.external.name));
  }

  /** Removes the lab's VMs, disks, taps, namespaces and files; also after a half-finished up. */
  async down(lab: string, externalName = 'external'): Promise<string> {
    const forwarding = Boolean(readForwardRecord(forwardRecordPath(lab)));
    await this.unforward(lab);
    const vms = await destroyLabVms(lab, this.opts);
    const namespaces = [netnsName(lab, externalName), networkNetnsName(lab)];
    const present = new Set(await listNetns());
    // Anything left in the namespaces (a qemu whose pid file was lost, a probe) goes too.
    const killed = await killNetnsProcesses(namespaces.filter((n) => present.has(n)));
    const nets = await deleteNetwork(lab, externalName);
    // As the netns driver does: the whole state directory (VM disks and
    // sockets, the emulator wrapper, logs, and the lifecycle's lab.json) goes.
    rmSync(labStateDir(lab), { recursive: true, force: true });
    return `removed ${vms.length} VMs${forwarding ? ', the API forwarder' : ''}, ${nets.length} namespaces${killed ? `, ${killed} stray processes` : ''}`;
  }
}
