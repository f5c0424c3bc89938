// What a scenario step or assertion can reach: the lab's API (through the
// driver-agnostic LabApi), its nodes, and saved variables. Targets are pods,
// nodes or the external client; commands run in them through the driver.
import type { LabNode } from '../cluster/driver.ts';
import type { LabLayout } from '../lab/load.ts';
import type { LabApi, PodView } from '../lifecycle/lab-api.ts';
import type { ExecResult } from '../util/exec.ts';
import { podExecArgv } from '../workloads/pod-paths.ts';
import { CheckFailed } from '../util/errors.ts';
import type { BUILTIN_VARS } from '../lab/schema.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import type { ReconfigureChange } from '../lab/reconfigure.ts';

export type Target = { pod: string } | { node: string } | { external: true };

export interface ScenarioContext {
  layout: LabLayout;
  mode: ProxyMode;
  api: LabApi;
  nodes: Map<string, LabNode>;
  external: LabNode;
  /** Path of the svclab bundle as nodes see it (for `probe`). */
  bundle: string;
  /** node binary inside nodes */
  nodeBin: string;
  vars: Map<string, string>;
  /** Where `answer` steps write and `answer` assertions read (the lab's answers/ directory). */
  answersDir?: string;
  /**
   * Rebuilds the lab for a `reconfigure` step (down, then up with the changes)
   * and returns what changed in the context; given by the CLI, which owns the
   * lifecycle. Without it a reconfigure step fails.
   */
  rebuild?: (change: ReconfigureChange) => Promise<RebuiltLab>;
  /** Item timeouts are multiplied by this (the driver's timeScale: TCG VMs run every probe several times slower). Default 1. */
  timeScale?: number;
}

export type RebuiltLab = Pick<ScenarioContext, 'layout' | 'mode' | 'api' | 'nodes' | 'external'> & { summary: string };

/** The variables every scenario has (BUILTIN_VARS in src/lab/schema.ts), from the running lab. */
export function builtinVars(layout: LabLayout, mode: ProxyMode): Record<(typeof BUILTIN_VARS)[number], string> {
  return {
    labName: layout.name,
    proxyMode: mode,
    nodeNetwork: layout.nodeNetwork,
    podCIDR: layout.podCIDR,
    serviceCIDR: layout.serviceCIDR,
    apiServerIP: layout.apiServerIP,
    dnsIP: layout.dnsIP,
  };
}

/** Sets the built-in variables (again, after a rebuild). */
export function seedVars(ctx: ScenarioContext): void {
  for (const [k, v] of Object.entries(builtinVars(ctx.layout, ctx.mode))) ctx.vars.set(k, v);
}

export interface ResolvedTarget {
  label: string;
  kind: 'pod' | 'node' | 'external';
  node: LabNode;
  pod?: PodView;
  ip: string;
}

export function describeTarget(t: Target): string {
  if ('pod' in t) return `pod ${t.pod}`;
  if ('node' in t) return t.node;
  return 'external client';
}

/** Finds the target now (pods may have been rescheduled since the last step). */
export async function resolveTarget(ctx: ScenarioContext, t: Target): Promise<ResolvedTarget> {
  if ('external' in t) return { label: 'external client', kind: 'external', node: ctx.external, ip: ctx.external.ip };
  if ('node' in t) {
    const node = ctx.nodes.get(t.node);
    if (!node) throw new CheckFailed(`no node named ${t.node} (nodes: ${[...ctx.nodes.keys()].join(', ')})`);
    return { label: t.node, kind: 'node', node, ip: node.ip };
  }
  const pods = await ctx.api.findPods(t.pod);
  const running = pods.filter((p) => p.ready && p.pid);
  if (!running.length) throw new CheckFailed(`no ready pod matches "${t.pod}" (${pods.length} pods match, none ready yet)`);
  const pod = running[0];
  const node = ctx.nodes.get(pod.nodeName);
  if (!node) throw new CheckFailed(`pod ${pod.name} is on unknown node ${pod.nodeName}`);
  return { label: `pod ${pod.name}`, kind: 'pod', node, pod, ip: pod.ip };
}

/** Runs argv in the target: in a pod's namespaces through nsenter, else in the node. */
export async function runIn(target: ResolvedTarget, argv: string[], timeoutMs = 15_000): Promise<ExecResult> {
  const full = target.pod ? podExecArgv(target.pod.pid!, argv) : argv;
  return target.node.exec(full, { allowFailure: true, timeoutMs, where: target.label });
}

/** Replaces ${var} with saved values; unknown variables are an error, not silence. */
export function expand(ctx: ScenarioContext, text: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (_, name: string) => {
    const v = ctx.vars.get(name);
    if (v === undefined) throw new CheckFailed(`variable \${${name}} is not set (save it with an earlier assertion's "save:")`);
    return v;
  });
}

/**
 * "db-service:3306" / "db-service.default:3306" / "10.96.1.2:3306" / "node-01:30007"
 * -> host as the client should dial it (names are left for cluster DNS) and port.
 */
export function splitHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  if (i < 0) throw new CheckFailed(`"${text}" has no port (expected host:port)`);
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

export interface Destination {
  host: string;
  port: number;
  /** How to name it in messages: "node-02 (192.168.49.3):30007". */
  label: string;
}

const NODE_SETS = ['each-node', 'nodes-with-endpoints', 'nodes-without-endpoints'];

/**
 * "host:port" after ${var} expansion, with node names turned into node IPs,
 * pod/NAME into that pod's IP, and the node-set keywords into one destination
 * per node: each-node, or the nodes
 * that do (not) run a ready endpoint of `service` (externalTrafficPolicy: Local).
 */
export async function destinations(ctx: ScenarioContext, to: string, service?: string, namespace?: string): Promise<Destination[]> {
  const { host, port } = splitHostPort(expand(ctx, to));
  const node = ctx.layout.nodes.find((n) => n.name === host);
  if (node) return [{ host: node.ip, port, label: `${node.name} (${node.ip}):${port}` }];
  if (host.startsWith('pod/')) {
    // A pod's own address, looked up now: it changes when the pod is re-created.
    const name = host.slice(4);
    const pod = (await ctx.api.findPods(name, namespace)).find((p) => p.ready && p.ip);
    if (!pod) throw new CheckFailed(`no ready pod ${name.includes('=') ? `matches "${name}"` : `named ${name}`} to take the address of`);
    return [{ host: pod.ip, port, label: `pod ${pod.name} (${pod.ip}):${port}` }];
  }
  if (!NODE_SETS.includes(host)) return [{ host, port, label: `${host}:${port}` }];
  let nodes = ctx.layout.nodes;
  if (host !== 'each-node') {
    if (!service) throw new CheckFailed(`"${host}" needs service: to know where the endpoints are`);
    const withEps = new Set((await ctx.api.endpointsOf(service, namespace)).filter((e) => e.ready).map((e) => e.nodeName));
    nodes = nodes.filter((n) => withEps.has(n.name) === (host === 'nodes-with-endpoints'));
    if (!nodes.length) throw new CheckFailed(`no node ${host === 'nodes-with-endpoints' ? 'runs' : 'lacks'} a ready endpoint of ${service}`);
  }
  return nodes.map((n) => ({ host: n.ip, port, label: `${n.name} (${n.ip}):${port}` }));
}
