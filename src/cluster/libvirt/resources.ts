// The libvirt driver as resources with create / read / delete, for the Pulumi
// dynamic providers (stacks/providers.ts). Same functions as the CLI driver:
// one implementation. Inputs and outputs are plain JSON (Pulumi stores them).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { killNetnsProcesses, listNetns } from '../common/namespaces.ts';
import { netnsName, networkNetnsName } from '../common/names.ts';
import { labStateDir } from '../common/state-dir.ts';
import { LibvirtBackend, QemuBackend, type VmBackend } from './backends.ts';
import { configureNode, connectNode, createNodeVolume, startNodeVm, stopNodeVm, vmSpec, type VmLabLayout, type VmOptions } from './lab-vms.ts';
import { domainName, vmPaths, vmsDir } from './names.ts';
import { applyNetSteps, deleteNetwork, planNetwork, type VmNetworkLayout } from './network.ts';
import { resolveBaseImage } from './volume.ts';
import { VmNode } from './vm-node.ts';
import { rmSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

// ---- network: the bridge namespace and the external client -----------------

export type NetworkInputs = VmNetworkLayout;
export interface NetworkOutputs extends NetworkInputs {
  netns: string;
  externalNetns: string;
}

export async function createNetwork(inputs: NetworkInputs): Promise<{ id: string; outs: NetworkOutputs }> {
  if (await networkPresent(inputs.lab)) await deleteNetworkResource(inputs);
  await applyNetSteps(planNetwork(inputs));
  const netns = networkNetnsName(inputs.lab);
  return { id: netns, outs: { ...inputs, netns, externalNetns: netnsName(inputs.lab, inputs.external.name) } };
}

async function networkPresent(lab: string): Promise<boolean> {
  return (await listNetns()).includes(networkNetnsName(lab));
}

/** undefined = gone (Pulumi then plans a create). */
export async function readNetwork(outs: NetworkOutputs): Promise<NetworkOutputs | undefined> {
  return (await networkPresent(outs.lab)) ? outs : undefined;
}

export async function deleteNetworkResource(outs: NetworkInputs): Promise<void> {
  const namespaces = [netnsName(outs.lab, outs.external.name), networkNetnsName(outs.lab)];
  const present = new Set(await listNetns());
  await killNetnsProcesses(namespaces.filter((n) => present.has(n)));
  await deleteNetwork(outs.lab, outs.external.name);
  // Deleted last (domains and volumes depend on it): what is left of the lab's files.
  rmSync(join(labStateDir(outs.lab), 'qemu-in-netns'), { force: true });
  for (const dir of [vmsDir(outs.lab), labStateDir(outs.lab)]) removeIfEmpty(dir);
}

// ---- volume: a node's qcow2 overlay ----------------------------------------

export interface VolumeInputs {
  lab: string;
  node: string;
  /** Base image file; empty = the cached `svclab image build`. */
  image?: string;
}
export interface VolumeOutputs extends VolumeInputs {
  disk: string;
  base: string;
  kernel: string;
  initrd: string;
}

export async function createVolume(inputs: VolumeInputs): Promise<{ id: string; outs: VolumeOutputs }> {
  const base = resolveBaseImage(inputs.image || undefined);
  const disk = await createNodeVolume(inputs.lab, inputs.node, base);
  return { id: disk, outs: { ...inputs, disk, base: base.root, kernel: base.kernel, initrd: base.initrd } };
}

export async function readVolume(outs: VolumeOutputs): Promise<VolumeOutputs | undefined> {
  return existsSync(outs.disk) ? outs : undefined;
}

export async function deleteVolume(outs: VolumeOutputs): Promise<void> {
  rmSync(outs.disk, { force: true });
  removeIfEmpty(dirname(outs.disk));
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // absent, or not empty
  }
}

// ---- domain: a node's VM ---------------------------------------------------

export interface DomainInputs extends VmOptions {
  layout: VmLabLayout;
  index: number;
  /** The volume's disk (ties the domain to its volume resource). */
  disk: string;
  image?: string;
}
export interface DomainOutputs extends DomainInputs {
  domain: string;
  node: string;
  ip: string;
  agentSocket: string;
  backendKind: VmBackend['kind'];
  accelUsed: string;
}

function backendFor(inputs: VmOptions): VmBackend {
  return inputs.backend === 'qemu' ? new QemuBackend() : new LibvirtBackend(inputs.uri);
}

/** Defines and starts the VM, waits for its agent, applies the node's sysctls and routes. */
export async function createDomain(inputs: DomainInputs): Promise<{ id: string; outs: DomainOutputs }> {
  const base = resolveBaseImage(inputs.image || undefined);
  const spec = await vmSpec(inputs.layout, inputs.index, base, inputs);
  if (spec.paths.disk !== inputs.disk) throw new Error(`domain ${spec.domain}: disk ${inputs.disk} is not this node's (${spec.paths.disk})`);
  const backend = backendFor(inputs);
  await backend.destroy(spec.lab, spec.node, spec.domain);
  await startNodeVm(spec, inputs.index, backend);
  const n = inputs.layout.nodes[inputs.index];
  const vm = await connectNode(inputs.layout.lab, n, inputs.bootTimeoutMs);
  try {
    await configureNode(vm, inputs.layout);
  } finally {
    await vm.close();
  }
  return {
    id: spec.domain,
    outs: { ...inputs, domain: spec.domain, node: n.name, ip: n.ip, agentSocket: spec.paths.agentSocket, backendKind: backend.kind, accelUsed: spec.accel },
  };
}

export async function readDomain(outs: DomainOutputs): Promise<DomainOutputs | undefined> {
  return (await backendFor(outs).isRunning(outs.domain, outs.layout.lab, outs.node)) ? outs : undefined;
}

export async function deleteDomain(outs: DomainOutputs): Promise<void> {
  await stopNodeVm(outs.layout.lab, outs.node, outs.index, backendFor(outs));
  // Everything of the VM but its disk, which belongs to the volume resource
  // (a replaced domain boots the same volume).
  const p = vmPaths(outs.layout.lab, outs.node);
  for (const f of [p.agentSocket, p.consoleSocket, p.qmpSocket, p.pidFile, p.consoleLog, join(p.dir, 'domain.xml')]) rmSync(f, { force: true });
}

// ---- node software: the svclab bundle inside a VM ----------------------------

export interface BundleInputs {
  lab: string;
  node: string;
  /** Host path of dist/svclab.mjs; copied to the same path in the VM. */
  bundle: string;
  /** Hash of the bundle: a new build means an update (copy again), not a new VM. */
  sha256: string;
}

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export async function copyBundle(inputs: BundleInputs): Promise<{ id: string; outs: BundleInputs }> {
  const vm = VmNode.onSocket(inputs.node, '', vmPaths(inputs.lab, inputs.node).agentSocket);
  try {
    await vm.copyIn(inputs.bundle, inputs.bundle, 0o644);
    const got = await vm.exec(['sha256sum', inputs.bundle]);
    if (!got.stdout.startsWith(inputs.sha256)) throw new Error(`${inputs.node}: ${inputs.bundle} arrived with another hash`);
  } finally {
    await vm.close();
  }
  return { id: `${domainName(inputs.lab, inputs.node)}:${inputs.bundle}`, outs: inputs };
}

export async function readBundle(outs: BundleInputs): Promise<BundleInputs | undefined> {
  const vm = VmNode.onSocket(outs.node, '', vmPaths(outs.lab, outs.node).agentSocket);
  try {
    const r = await vm.exec(['sha256sum', outs.bundle], { allowFailure: true, timeoutMs: 30_000 });
    return r.code === 0 && r.stdout.startsWith(outs.sha256) ? outs : undefined;
  } catch {
    return undefined;
  } finally {
    await vm.close();
  }
}
