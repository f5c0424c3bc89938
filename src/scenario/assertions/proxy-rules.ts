// "Did kube-proxy program this Service?" read back from the kernel on every
// node, in the mode's own terms (the iptables chain walk, the nft service-ips
// map, IPVS virtual servers, the userspace portals: each mode's rules-check).
// Here: what the API says the rules should hold, and which nodes to ask.
import type { ScenarioContext } from '../context.ts';
import { CheckFailed } from '../../util/errors.ts';
import type { Service, ServicePort } from '../../k8s/objects.ts';
import type { LabNode } from '../../cluster/driver.ts';
import { proxyMode } from '../../proxy/modes.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from '../../proxy/rules-check.ts';

/** What the rules should contain, from the API (the control plane's view). */
async function expected(ctx: ScenarioContext, spec: ProxyRulesSpec): Promise<ExpectedServicePort | undefined> {
  const ns = spec.namespace ?? 'default';
  const svc: Service | undefined = await ctx.api.getService(spec.service, ns);
  if (!svc) return undefined;
  const ports: ServicePort[] = svc.spec?.ports ?? [];
  const p = spec.port ? ports.find((x) => x.port === spec.port) : ports[0];
  if (!p) throw new CheckFailed(`service ${spec.service} has no port ${spec.port}`);
  const eps = (await ctx.api.endpointsOf(spec.service, ns)).filter((e) => e.ready);
  return {
    ns,
    name: spec.service,
    key: `${ns}/${spec.service}${p.name ? `:${p.name}` : ''}`,
    clusterIP: svc.spec?.clusterIP ?? '',
    port: p.port,
    protocol: p.protocol ?? 'TCP',
    nodePort: p.nodePort ?? 0,
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy ?? 'Cluster',
    endpoints: eps.map((e) => ({ ip: e.ip, port: e.port, nodeName: e.nodeName })),
  };
}

function nodesOf(ctx: ScenarioContext, spec: ProxyRulesSpec): LabNode[] {
  const names = spec.nodes ?? [...ctx.nodes.keys()];
  return names.map((n) => {
    const node = ctx.nodes.get(n);
    if (!node) throw new CheckFailed(`no node named ${n}`);
    return node;
  });
}

/** The service ports each scenario has checked, so an IPVS "absent" check knows the former ClusterIP. */
const seen = new WeakMap<ScenarioContext, Map<string, ExpectedServicePort>>();
const seenKey = (spec: ProxyRulesSpec) => `${spec.namespace ?? 'default'}/${spec.service}:${spec.port ?? ''}`;

export async function checkProxyRules(ctx: ScenarioContext, spec: ProxyRulesSpec): Promise<string> {
  const nodes = nodesOf(ctx, spec);
  const want = spec.absent ? undefined : await expected(ctx, spec);
  if (!spec.absent && !want) throw new CheckFailed(`service ${spec.service} does not exist`);
  if (!seen.has(ctx)) seen.set(ctx, new Map());
  if (want) seen.get(ctx)!.set(seenKey(spec), want);
  const former = seen.get(ctx)!.get(seenKey(spec));
  if (want && spec.endpoints !== undefined && want.endpoints.length !== spec.endpoints) {
    throw new CheckFailed(`the API lists ${want.endpoints.length} ready endpoints for ${spec.service}, expected ${spec.endpoints}`);
  }
  const mode = proxyMode(ctx.mode);
  const summaries: string[] = [];
  for (const node of nodes) summaries.push(await mode.checkRules(node, spec, want, former));
  // One line when every node agrees (the usual case), else one per node.
  if (summaries.every((x) => x === summaries[0])) return `${nodes.map((n) => n.name).join(', ')}: ${summaries[0]}`;
  return nodes.map((n, i) => `${n.name}: ${summaries[i]}`).join('\n    ');
}
