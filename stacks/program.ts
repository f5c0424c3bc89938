// The Pulumi program for one lab on libvirt VMs, as a function of plain
// inputs so tests can run it under Pulumi's mocks.
//
//   LabNetwork ──┐
//   NodeVolume ×N ─> NodeDomain ×N ─> NodeBundle ×N ─> control-plane ─> proxy-config ─> workloads ─> scenario
//                                                                       (triggers: mode)               └> services
//
// VMs, volumes and the network depend only on the lab's layout and the VM
// settings; the proxy mode reaches only `proxy-config` (and, through its id,
// the scenario re-run), so changing the stack's mode reconfigures kube-proxy on
// the running VMs instead of recreating them.
import * as pulumi from '@pulumi/pulumi';
import * as command from '@pulumi/command';
import { LabNetwork, NodeBundle, NodeDomain, NodeVolume } from './providers.ts';

export interface LabStackConfig {
  /** Lab file (as passed to the svclab CLI). */
  labFile: string;
  /** sha256 of the lab file: the workloads and scenario run again when it changes. */
  labSha256: string;
  layout: {
    lab: string;
    nodeNetwork: string;
    gateway: string;
    nodes: { name: string; ip: string; podCIDR: string }[];
    external: { name: string; ip: string };
  };
  mode: string;
  uri: string;
  /** Base image file; empty = the cached `svclab image build`. */
  image: string;
  memoryMiB: number;
  vcpus: number;
  backend: 'libvirt' | 'qemu';
  /** A network or bridge of this libvirt host for the VMs (default: the lab's own isolated bridge). */
  nic?: { kind: 'network' | 'bridge'; name: string };
  /** dist/svclab.mjs on this host, and its sha256. */
  bundle: string;
  bundleSha256: string;
  /** How to run the svclab CLI here, e.g. ["node", "/src/svclab/dist/svclab.mjs"]. */
  svclab: string[];
  /** Runs a JSON argv without a shell (stacks/argv.mjs); @pulumi/command otherwise runs `sh -c`. */
  argvRunner: string[];
}

export interface LabStackOutputs {
  nodeIps: pulumi.Output<Record<string, string>>;
  serviceIps: pulumi.Output<Record<string, string>>;
  scenario: pulumi.Output<unknown>;
  domains: pulumi.Output<string[]>;
}

/** A local command given as argv (never a shell string): the runner gets it as one JSON argument. */
function argvCommand(
  name: string,
  cfg: LabStackConfig,
  argv: { create: string[]; delete?: string[] },
  opts: { triggers?: pulumi.Input<unknown>[]; dependsOn?: pulumi.Input<pulumi.Resource>[]; deleteBeforeReplace?: boolean },
): command.local.Command {
  return new command.local.Command(name, {
    interpreter: cfg.argvRunner,
    create: JSON.stringify(argv.create),
    delete: argv.delete && JSON.stringify(argv.delete),
    triggers: opts.triggers,
  }, { dependsOn: opts.dependsOn, ...(opts.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}) });
}

export function labStack(cfg: LabStackConfig): LabStackOutputs {
  const lab = cfg.layout.lab;
  const network = new LabNetwork('network', {
    lab, nodeNetwork: cfg.layout.nodeNetwork, gateway: cfg.layout.gateway, nodes: cfg.layout.nodes, external: cfg.layout.external,
  });
  const domains = cfg.layout.nodes.map((n, index) => {
    const volume = new NodeVolume(`volume-${n.name}`, { lab, node: n.name, image: cfg.image });
    return new NodeDomain(`domain-${n.name}`, {
      layout: cfg.layout, index, disk: volume.disk, image: cfg.image,
      memoryMiB: cfg.memoryMiB, vcpus: cfg.vcpus, backend: cfg.backend, uri: cfg.uri, ...(cfg.nic ? { nic: cfg.nic } : {}),
    }, { dependsOn: [network, volume] });
  });
  const bundles = domains.map((d, i) => new NodeBundle(`bundle-${cfg.layout.nodes[i].name}`, {
    lab, node: cfg.layout.nodes[i].name, bundle: cfg.bundle, sha256: cfg.bundleSha256,
  }, { dependsOn: [d] }));

  const svclab = cfg.svclab;
  // CNI, control plane and kubelets on the VMs that the resources above made.
  const controlPlane = argvCommand('control-plane', cfg, {
    create: [...svclab, 'up', cfg.labFile, '--driver', 'libvirt', '--adopt', '--skip-proxy', '--skip-workloads'],
    delete: [...svclab, 'down', lab, '--keep-nodes'],
    // The old control plane must be stopped (down --keep-nodes) before `up --adopt` starts the new one on the same VMs.
  }, { triggers: [cfg.bundleSha256], dependsOn: bundles, deleteBeforeReplace: true });
  // A new control plane (new bundle) starts without proxy and workloads: both run again then.
  const proxyConfig = argvCommand('proxy-config', cfg, {
    create: [...svclab, 'proxy', 'restart', lab, '--mode', cfg.mode],
  }, { triggers: [cfg.mode, controlPlane.id], dependsOn: [controlPlane] });
  const workloads = argvCommand('workloads', cfg, {
    create: [...svclab, 'apply', '-f', cfg.labFile],
  }, { triggers: [cfg.labSha256, controlPlane.id], dependsOn: [proxyConfig] });
  const scenario = argvCommand('scenario', cfg, {
    create: [...svclab, 'run', cfg.labFile, '-o', 'json'],
  }, { triggers: [cfg.labSha256, proxyConfig.id, workloads.id], dependsOn: [workloads] });
  const services = argvCommand('services', cfg, {
    create: [...svclab, 'get', 'svc', '-A', '-o', 'json'],
  }, { triggers: [workloads.id], dependsOn: [workloads] });

  return {
    nodeIps: pulumi.output(Object.fromEntries(cfg.layout.nodes.map((n) => [n.name, n.ip]))),
    serviceIps: services.stdout.apply(serviceIpsOf),
    scenario: scenario.stdout.apply(parseJson),
    domains: pulumi.all(domains.map((d) => d.domain)),
  };
}

function parseJson(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** "namespace/name" -> ClusterIP, from `svclab get svc -o json` (a v1 List). */
export function serviceIpsOf(text: string | undefined): Record<string, string> {
  const list = parseJson(text) as { items?: { metadata?: { name?: string; namespace?: string }; spec?: { clusterIP?: string } }[] } | undefined;
  const out: Record<string, string> = {};
  for (const s of list?.items ?? []) {
    if (s.metadata?.name && s.spec?.clusterIP) out[`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`] = s.spec.clusterIP;
  }
  return out;
}
