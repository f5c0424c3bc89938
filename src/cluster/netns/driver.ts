// The embedded `netns` driver: every node of a lab is a network namespace on
// this host, wired to a bridge in the lab's own "network" namespace. Nothing
// is created in the host's namespace, so the host's links, routes and rules
// are never touched and several labs run side by side.
//
// This file applies the plan (plan.ts) and hands out nodes; teardown,
// preflight and naming live in their own siblings in this folder, names and
// the state dir shared with the libvirt driver in ../common/.
import { mkdir, readdir } from 'node:fs/promises';
import { EnvironmentError } from '../../util/errors.ts';
import { run } from '../../util/exec.ts';
import type { DriverCapabilities, DriverProgress, LabDriver } from '../driver.ts';
import { defaultBundle } from '../common/bundle.ts';
import { toLabNetworkLayout, type LayoutInput as NetworkLayoutInput } from '../common/layout.ts';
import { listNetns } from '../common/namespaces.ts';
import { labNetnsPrefix, netnsName, networkNetnsName } from '../common/names.ts';
import { labStateDir } from '../common/state-dir.ts';
import { ETC_NETNS } from './names.ts';
import { NetnsNode } from './node.ts';
import { planNetns, type NetnsAction, type NetnsLayout } from './plan.ts';
import { kernelHasIPVS, preflight } from './preflight.ts';
import { down, knownLabs, ownedBy, removeLabNamespaces, type NetnsTeardown } from './teardown.ts';

export { NetnsNode } from './node.ts';
export { planNetns, renderNetnsPlan, type NetnsLayout, type NetnsPlan } from './plan.ts';
export { preflight, kernelHasIPVS } from './preflight.ts';
export { down, type NetnsTeardown } from './teardown.ts';

/** A running netns lab (the driver interface's LabNodes, plus what is netns-specific). */
export interface NetnsLab {
  readonly lab: string;
  /** The Kubernetes nodes, in layout order. */
  readonly nodes: NetnsNode[];
  /** The external client on the node network (not a Kubernetes node). */
  readonly external: NetnsNode;
  /** The namespace holding the node network's bridge and gateway. */
  readonly network: string;
}

/**
 * Creates the lab's namespaces, links, routes and sysctls. Refuses if a
 * namespace of the lab already exists. If a step fails, deletes the
 * namespaces it made and rethrows.
 */
export async function up(layout: NetnsLayout, progress: DriverProgress = () => {}): Promise<NetnsLab> {
  const plan = planNetns(layout); // validates before anything is touched
  await claim(layout.lab);
  try {
    for (const action of plan.actions) {
      progress(action.phase, action.detail);
      await apply(action);
    }
  } catch (err) {
    // Take back the namespaces; the state dir may hold the caller's record, so it stays for `down`.
    await removeLabNamespaces(layout.lab).catch(() => {});
    throw err;
  }
  return handle(layout);
}

/** The nodes of a lab that is up; EnvironmentError if it is not (fully) up. */
export async function attach(layout: NetnsLayout): Promise<NetnsLab> {
  const existing = new Set(await listNetns());
  const lab = handle(layout);
  const missing = [lab.network, ...lab.nodes.map((n) => n.netns), lab.external.netns].filter((ns) => !existing.has(ns));
  if (missing.length === lab.nodes.length + 2) {
    throw new EnvironmentError(`lab ${layout.lab} is not up`, `run \`svclab up ${layout.lab}\``);
  }
  if (missing.length > 0) {
    throw new EnvironmentError(
      `lab ${layout.lab} is only partly up (missing namespaces ${missing.join(', ')})`,
      `run \`svclab down ${layout.lab}\`, then \`svclab up\` again`,
    );
  }
  return lab;
}

function handle(layout: NetnsLayout): NetnsLab {
  const node = (m: { name: string; ip: string }) => new NetnsNode(m.name, m.ip, netnsName(layout.lab, m.name));
  return { lab: layout.lab, nodes: layout.nodes.map(node), external: node(layout.external), network: networkNetnsName(layout.lab) };
}

/**
 * Makes sure no namespace of this lab exists and no lab with an overlapping
 * name prefix runs ("a" and "a-b": "svclab-a-b-node-01" would be ambiguous),
 * then makes the state dir, so a `down` after a killed `up` still knows the lab.
 */
async function claim(lab: string): Promise<void> {
  const all = await listNetns();
  const labs = await knownLabs(all);
  if (ownedBy(lab, all, labs).length > 0) {
    throw new EnvironmentError(`lab ${lab} is already up`, `run \`svclab down ${lab}\``);
  }
  const clash = [...labs].find((l) => l.startsWith(`${lab}-`) || lab.startsWith(`${l}-`));
  if (clash) {
    throw new EnvironmentError(
      `lab ${lab} cannot run next to lab ${clash}: their namespace names (${labNetnsPrefix(lab)}*, ${labNetnsPrefix(clash)}*) overlap`,
      `run \`svclab down ${clash}\` first, or rename one of them`,
    );
  }
  await mkdir(labStateDir(lab), { recursive: true });
}

async function apply(action: NetnsAction): Promise<void> {
  const where = action.netns;
  switch (action.kind) {
    case 'netns':
      await run(['ip', 'netns', 'add', action.netns], { where: 'host' });
      return;
    case 'ip':
      await run(['ip', '-n', action.netns, '-batch', '-'], { input: action.lines.join('\n') + '\n', where });
      return;
    case 'iptables':
      await run(['ip', 'netns', 'exec', action.netns, 'iptables-restore', '--noflush'], { input: action.lines.join('\n') + '\n', where });
      return;
    case 'sysctl':
      // `sysctl -w` inside the namespace: these keys are per namespace, the host's stay as they are.
      await run(['ip', 'netns', 'exec', action.netns, 'sysctl', '-q', '-w', ...action.values.map(([k, v]) => `${k}=${v}`)], { where });
      return;
  }
}

/** The lab loader's layout names the lab `name`; the driver's own type says `lab`. Either works here. */
export type LayoutInput = NetworkLayoutInput<NetnsLayout['nodes'][number]>;

/** Anything of this lab on the host: a namespace, an /etc/netns entry or the state dir. */
export async function exists(lab: string): Promise<boolean> {
  const all = await listNetns();
  const labs = await knownLabs(all);
  if (labs.has(lab) || ownedBy(lab, all, labs).length > 0) return true;
  return ownedBy(lab, await readdir(ETC_NETNS).catch(() => [] as string[]), labs).length > 0;
}

/** "removed 5 namespaces, 3 processes, 2 paths" for the CLI. */
export function summarizeTeardown(t: NetnsTeardown): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return `removed ${n(t.namespaces.length, 'namespace', 'namespaces')}, ${n(t.processes, 'process', 'processes')}, ${n(t.paths.length, 'path', 'paths')}`;
}

/**
 * Namespaces on this host: its kernel, its programs and its filesystem, and a
 * path socket reaches the apiserver from here. Only ip_vs needs asking.
 */
export const NETNS_CAPABILITIES: DriverCapabilities = {
  sharesHostKernel: true,
  needsHostTools: true,
  sharesHostFilesystem: true,
  hostReachesNodeNetwork: true,
  sweepsByName: true,
  nodesOutliveLab: false,
  timeScale: 1,
  hasIPVS: kernelHasIPVS,
};

/**
 * The netns driver behind the lifecycle's driver contract. `bundle` is the
 * svclab bundle nodes run their daemons from; namespaces share the host's
 * filesystem, so it is the host's path.
 */
export class NetnsDriver implements LabDriver {
  readonly name = 'netns' as const;
  readonly capabilities = NETNS_CAPABILITIES;
  constructor(private readonly opts: { bundle?: string } = {}) {}
  preflight(): Promise<void> {
    return preflight();
  }
  up(layout: LayoutInput, progress?: DriverProgress): Promise<NetnsLab> {
    return up(toLabNetworkLayout(layout), progress);
  }
  attach(layout: LayoutInput): Promise<NetnsLab> {
    return attach(toLabNetworkLayout(layout));
  }
  async down(lab: string): Promise<string> {
    return summarizeTeardown(await down(lab));
  }
  exists(lab: string): Promise<boolean> {
    return exists(lab);
  }
  runtime(): { nodeBin: string; bundle: string } {
    return { nodeBin: process.execPath, bundle: this.opts.bundle ?? defaultBundle() };
  }
  /** Nothing to relay: the apiserver's path socket is on this host's filesystem already. */
  async forward(): Promise<void> {}
  async unforward(): Promise<void> {}
}
