// The libvirt driver's building blocks, one function per resource: the lab
// network, a node's volume, a node's VM, and the node software setup. The CLI
// driver (driver.ts) calls them in order; the Pulumi dynamic providers
// (stacks/providers) call the same functions one resource at a time.
import { existsSync, rmSync } from 'node:fs';
import { normalizeIP, parseCidr } from '../../util/cidr.ts';
import { run } from '../../util/exec.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { labStateDir } from '../common/state-dir.ts';
import { NODE_SYSCTLS } from '../common/sysctls.ts';
import { detectAccel, type Accel } from './accel.ts';
import { waitForAgent } from './agent-client.ts';
import { LibvirtBackend, QemuBackend, type BackendKind, type VmBackend } from './backends.ts';
import { domainName, macAddress, tapName, vmPaths, vmsDir } from './names.ts';
import { networkNetnsName } from '../common/names.ts';
import { applyNetSteps, planTap, type VmNetworkLayout } from './network.ts';
import { VmNode } from './vm-node.ts';
import type { VmSpec } from './vm-spec.ts';
import { createOverlay, type BaseImage } from './volume.ts';

export interface VmLabLayout extends VmNetworkLayout {
  nodes: { name: string; ip: string; podCIDR: string }[];
}

export interface VmOptions {
  /** qemu directly (no daemon) or libvirt domains; auto = libvirt if libvirtd answers at `uri`. */
  backend?: BackendKind | 'auto';
  /** libvirt connection URI. */
  uri?: string;
  memoryMiB?: number;
  vcpus?: number;
  accel?: Accel | 'auto';
  tbCacheMiB?: number;
  /** A libvirt network or host bridge to plug eth0 into instead of the lab's own bridge (libvirt backend). */
  nic?: { kind: 'network' | 'bridge'; name: string };
  /** qemu CPU model under TCG; qemu64 measured a little cheaper than max here (no AVX to emulate). */
  cpuModel?: string;
  bootTimeoutMs?: number;
}

export const VM_DEFAULTS = { memoryMiB: 320, vcpus: 1, tbCacheMiB: 64, cpuModel: 'qemu64', bootTimeoutMs: 240_000, uri: 'qemu:///system' };

export async function pickBackend(opts: VmOptions): Promise<VmBackend> {
  const want = opts.backend ?? 'auto';
  if (want === 'qemu') return new QemuBackend();
  const lv = new LibvirtBackend(opts.uri ?? VM_DEFAULTS.uri);
  if (want === 'libvirt') {
    if (!(await lv.reachable())) {
      throw new EnvironmentError(`libvirtd does not answer at ${lv.uri}`, 'start it (scripts/setup-vm-host.sh), or use the qemu backend');
    }
    return lv;
  }
  return (await lv.reachable()) ? lv : new QemuBackend();
}

/** The VM of one node as data (what qemu argv and domain XML are rendered from). */
export async function vmSpec(layout: VmLabLayout, index: number, base: BaseImage, opts: VmOptions): Promise<VmSpec> {
  const n = layout.nodes[index];
  const accel = !opts.accel || opts.accel === 'auto' ? await detectAccel() : opts.accel;
  return {
    lab: layout.lab,
    node: n.name,
    domain: domainName(layout.lab, n.name),
    memoryMiB: opts.memoryMiB ?? VM_DEFAULTS.memoryMiB,
    vcpus: opts.vcpus ?? VM_DEFAULTS.vcpus,
    accel,
    tbCacheMiB: opts.tbCacheMiB ?? (Number(process.env.SVCLAB_TB_MIB) || VM_DEFAULTS.tbCacheMiB),
    cpuModel: opts.cpuModel ?? process.env.SVCLAB_CPU ?? VM_DEFAULTS.cpuModel,
    kernel: base.kernel,
    initrd: base.initrd,
    ip: `${normalizeIP(n.ip)}/${parseCidr(layout.nodeNetwork).prefix}`,
    gateway: normalizeIP(layout.gateway),
    tap: tapName(n.name, index),
    mac: macAddress(layout.lab, n.name),
    nic: opts.nic,
    paths: vmPaths(layout.lab, n.name),
  };
}

/** The node's disk: an overlay on the base image. */
export async function createNodeVolume(lab: string, node: string, base: BaseImage): Promise<string> {
  const disk = vmPaths(lab, node).disk;
  await createOverlay(disk, base);
  return disk;
}

/** Plugs the node's tap into the lab bridge and starts its VM (the volume must exist). */
export async function startNodeVm(spec: VmSpec, index: number, backend: VmBackend): Promise<void> {
  if (!existsSync(spec.paths.disk)) throw new EnvironmentError(`${spec.node}: disk ${spec.paths.disk} is missing`);
  if (!spec.nic) {
    await deleteTap(spec.lab, spec.tap);
    await applyNetSteps(planTap(spec.lab, spec.node, index));
  }
  await backend.start(spec);
}

/** Stops and forgets the node's VM and removes its tap. */
export async function stopNodeVm(lab: string, node: string, index: number, backend: VmBackend): Promise<void> {
  await backend.destroy(lab, node, domainName(lab, node));
  await deleteTap(lab, tapName(node, index));
}

async function deleteTap(lab: string, tap: string): Promise<void> {
  await run(['ip', '-n', networkNetnsName(lab), 'link', 'del', tap], { allowFailure: true });
}

/** Waits for the node's agent and hands out the node. */
export async function connectNode(lab: string, node: { name: string; ip: string }, timeoutMs = VM_DEFAULTS.bootTimeoutMs): Promise<VmNode> {
  const paths = vmPaths(lab, node.name);
  const client = await waitForAgent(paths.agentSocket, node.name, timeoutMs);
  return new VmNode(node.name, normalizeIP(node.ip), async () => client);
}

/**
 * What the netns driver does for a node namespace, done inside the VM: the
 * same sysctls, and host-gw routes to the other nodes' pod CIDRs.
 */
export function nodeRouteLines(layout: VmLabLayout, node: string): string[] {
  return layout.nodes.filter((o) => o.name !== node)
    .map((o) => `route replace ${o.podCIDR} via ${normalizeIP(o.ip)} dev eth0`);
}

export async function configureNode(vm: VmNode, layout: VmLabLayout, bundle?: { host: string; guest: string }): Promise<void> {
  await vm.exec(['sysctl', '-q', '-w', ...NODE_SYSCTLS.map(([k, v]) => `${k}=${v}`)]);
  const routes = nodeRouteLines(layout, vm.name);
  if (routes.length) await vm.exec(['ip', '-batch', '-'], { input: routes.join('\n') + '\n' });
  if (bundle) await vm.copyIn(bundle.host, bundle.guest, 0o644);
}

/** Removes every VM of the lab (either backend), its disks and sockets. */
export async function destroyLabVms(lab: string, opts: VmOptions = {}): Promise<string[]> {
  const gone: string[] = [];
  const lv = new LibvirtBackend(opts.uri ?? VM_DEFAULTS.uri);
  if (opts.backend !== 'qemu' && (await lv.reachable())) {
    for (const d of await lv.list(lab)) {
      await lv.destroy(lab, '', d);
      gone.push(d);
    }
  }
  const q = new QemuBackend();
  for (const d of await q.list(lab)) {
    const node = d.slice(`svclab-${lab}-`.length);
    await q.destroy(lab, node, d);
    gone.push(d);
  }
  rmSync(vmsDir(lab), { recursive: true, force: true });
  rmSync(`${labStateDir(lab)}/qemu-in-netns`, { force: true });
  return gone;
}
