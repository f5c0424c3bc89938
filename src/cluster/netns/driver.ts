// The embedded `netns` driver: every node of a lab is a network namespace on
// this host, wired to a bridge in the lab's own "network" namespace. Nothing
// is created in the host's namespace, so the host's links, routes and rules
// are never touched and several labs run side by side.
//
// This file applies the plan (netns-plan.ts) and hands out nodes; teardown,
// preflight and naming live in their own netns-*.ts siblings.
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../util/errors.ts';
import { run } from '../util/exec.ts';
import type { Driver, DriverProgress } from './driver.ts';
import { listNetns } from './netns-host.ts';
import { ETC_NETNS, labNetnsPrefix, labStateDir, netnsName, networkNetnsName } from './netns-names.ts';
import { NetnsNode } from './netns-node.ts';
import { planNetns, type NetnsAction, type NetnsLayout } from './netns-plan.ts';
import { kernelHasIPVS, preflight } from './netns-preflight.ts';
import { down, knownLabs, ownedBy, removeLabNamespaces, type NetnsTeardown } from './netns-teardown.ts';

export { NetnsNode } from './netns-node.ts';
export { planNetns, renderNetnsPlan, NODE_SYSCTLS, type NetnsLayout, type NetnsPlan } from './netns-plan.ts';
export { netnsName, labNetnsPrefix, podNetnsName, networkNetnsName, labStateDir, nodeStateDir } from './netns-names.ts';
export { preflight, kernelHasIPVS } from './netns-preflight.ts';
export { down, type NetnsTeardown } from './netns-teardown.ts';

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
export type LayoutInput = NetnsLayout | (Omit<NetnsLayout, 'lab'> & { name: string });

function toNetnsLayout(layout: LayoutInput): NetnsLayout {
  if ('lab' in layout) return layout;
  const { name, nodeNetwork, gateway, nodes, external } = layout;
  return { lab: name, nodeNetwork, gateway, nodes, external };
}

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
 * The netns driver behind the lifecycle's driver interface. `bundle` is the
 * svclab bundle nodes run their daemons from; namespaces share the host's
 * filesystem, so it is the host's path.
 */
export class NetnsDriver implements Driver {
  readonly name = 'netns' as const;
  constructor(private readonly opts: { bundle?: string } = {}) {}
  preflight(): Promise<void> {
    return preflight();
  }
  up(layout: LayoutInput, progress?: DriverProgress): Promise<NetnsLab> {
    return up(toNetnsLayout(layout), progress);
  }
  attach(layout: LayoutInput): Promise<NetnsLab> {
    return attach(toNetnsLayout(layout));
  }
  async down(lab: string): Promise<string> {
    return summarizeTeardown(await down(lab));
  }
  exists(lab: string): Promise<boolean> {
    return exists(lab);
  }
  runtime(): { nodeBin: string; bundle: string } {
    // From source this module is src/cluster/netns.ts; bundled, it *is* dist/svclab.mjs.
    const self = fileURLToPath(import.meta.url);
    const bundle = this.opts.bundle ?? (self.endsWith('.mjs') ? self : join(dirname(self), '..', '..', 'dist', 'svclab.mjs'));
    return { nodeBin: process.execPath, bundle };
  }
  kernelHasIPVS(): Promise<boolean> {
    return kernelHasIPVS();
  }
}
