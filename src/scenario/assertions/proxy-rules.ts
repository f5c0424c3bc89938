// "Did kube-proxy program this Service?" read back from the kernel on every
// node, in the mode's own terms: the iptables chain walk KUBE-SERVICES →
// KUBE-SVC → KUBE-SEP → DNAT (iptables-save), the nft service-ips map and
// endpoint chains, IPVS virtual/real servers, or the userspace portals.
import type { ScenarioContext } from '../context.ts';
import { CheckFailed } from '../retry.ts';
import { findChain, parseIptablesSave, type SavedDump } from '../../proxy/iptables/save-parse.ts';
import { externalChainName, localPolicyChainName, servicePortChainName } from '../../proxy/chain-names.ts';
import type { Service, ServicePort } from '../../k8s/objects.ts';
import type { LabNode } from '../../cluster/driver.ts';
import { checkNftRules } from './proxy-rules-nft.ts';
import { checkIpvsRules } from './proxy-rules-ipvs.ts';
import { checkUserspaceRules } from './proxy-rules-userspace.ts';

export interface ProxyRulesSpec {
  service: string;
  namespace?: string;
  port?: number;
  endpoints?: number;
  absent?: boolean;
  nodes?: string[];
  nodePort?: boolean;
}

export interface ExpectedServicePort {
  ns: string;
  name: string;
  /** ServicePortName.String(): ns/name or ns/name:portName */
  key: string;
  clusterIP: string;
  port: number;
  protocol: string;
  nodePort: number;
  externalTrafficPolicy: string;
  /** ready endpoint IPs from the API, with the target port */
  endpoints: { ip: string; port: number; nodeName: string }[];
}

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
  const summaries: string[] = [];
  for (const node of nodes) {
    switch (ctx.mode) {
      case 'iptables': summaries.push(await checkIptablesNode(node, spec, want)); break;
      case 'nftables': summaries.push(await checkNftRules(node, spec, want)); break;
      case 'ipvs': summaries.push(await checkIpvsRules(node, spec, want, former)); break;
      case 'userspace': summaries.push(await checkUserspaceRules(node, spec, want)); break;
      default: throw new CheckFailed(`no rule check for mode ${ctx.mode}`);
    }
  }
  // One line when every node agrees (the usual case), else one per node.
  if (summaries.every((x) => x === summaries[0])) return `${nodes.map((n) => n.name).join(', ')}: ${summaries[0]}`;
  return nodes.map((n, i) => `${n.name}: ${summaries[i]}`).join('\n    ');
}

async function iptablesSave(node: LabNode): Promise<SavedDump> {
  const r = await node.exec(['iptables-save', '-t', 'nat'], { allowFailure: true });
  if (r.code !== 0) throw new CheckFailed(`iptables-save failed on ${node.name}: ${r.stderr.trim()}`);
  return parseIptablesSave(r.stdout);
}

async function checkIptablesNode(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined): Promise<string> {
  const dump = await iptablesSave(node);
  const services = findChain(dump, 'nat', 'KUBE-SERVICES');
  if (!services) throw new CheckFailed(`${node.name}: nat KUBE-SERVICES does not exist (is kube-proxy running?)`);
  const ns = spec.namespace ?? 'default';
  const mentions = services.rules.filter((r) => r.comment?.startsWith(`${ns}/${spec.service}`) && /cluster IP$/.test(r.comment ?? ''));
  if (spec.absent) {
    if (mentions.length) throw new CheckFailed(`${node.name}: KUBE-SERVICES still has ${mentions[0].raw}`);
    const left = dump.tables.find((t) => t.name === 'nat')?.chains.filter((c) => c.rules.some((r) => r.comment?.startsWith(`${ns}/${spec.service}`))) ?? [];
    if (left.length) throw new CheckFailed(`${node.name}: chains still mention ${ns}/${spec.service}: ${left.map((c) => c.name).join(', ')}`);
    return `no KUBE-SERVICES rule and no chain for ${ns}/${spec.service}`;
  }
  const w = want!;
  const svcChain = servicePortChainName(w.key, w.protocol.toLowerCase());
  const hook = services.rules.find((r) => r.jump === svcChain);
  if (!hook) throw new CheckFailed(`${node.name}: KUBE-SERVICES has no jump to ${svcChain} (${w.key} cluster IP ${w.clusterIP}:${w.port})`);
  if (!hook.args.includes(`${w.clusterIP}/32`) || !hook.args.includes(String(w.port))) {
    throw new CheckFailed(`${node.name}: KUBE-SERVICES → ${svcChain} does not match ${w.clusterIP}:${w.port}: ${hook.raw}`);
  }
  const chain = findChain(dump, 'nat', svcChain);
  if (!chain) throw new CheckFailed(`${node.name}: chain ${svcChain} does not exist`);
  const sepJumps = chain.rules.filter((r) => r.jump?.startsWith('KUBE-SEP-'));
  if (sepJumps.length !== w.endpoints.length) {
    throw new CheckFailed(`${node.name}: ${svcChain} jumps to ${sepJumps.length} KUBE-SEP chains, the service has ${w.endpoints.length} ready endpoints`);
  }
  // The cascade: endpoint i of n is picked with probability 1/(n-i); the last has no statistic match.
  sepJumps.forEach((r, i) => {
    const n = sepJumps.length;
    const prob = r.args[r.args.indexOf('--probability') + 1];
    if (i < n - 1) {
      if (!r.args.includes('--probability') || Math.abs(Number(prob) - 1 / (n - i)) > 1e-6) {
        throw new CheckFailed(`${node.name}: rule ${i + 1} of ${svcChain} should have --probability ${(1 / (n - i)).toFixed(10)}: ${r.raw}`);
      }
    } else if (r.args.includes('--probability')) throw new CheckFailed(`${node.name}: the last rule of ${svcChain} should have no probability: ${r.raw}`);
  });
  const dnat = new Set<string>();
  for (const r of sepJumps) {
    const sep = findChain(dump, 'nat', r.jump!);
    const rule = sep?.rules.find((x) => x.target === 'DNAT');
    const to = rule?.args[rule.args.indexOf('--to-destination') + 1];
    if (!to) throw new CheckFailed(`${node.name}: ${r.jump} has no DNAT rule`);
    dnat.add(to);
  }
  const wantTo = new Set(w.endpoints.map((e) => `${e.ip}:${e.port}`));
  const missing = [...wantTo].filter((x) => !dnat.has(x));
  if (missing.length) throw new CheckFailed(`${node.name}: no KUBE-SEP DNATs to ${missing.join(', ')} (the rules DNAT to ${[...dnat].join(', ')})`);
  const probs = sepJumps.slice(0, -1).map((r) => r.args[r.args.indexOf('--probability') + 1]);
  const np = spec.nodePort ? `; ${await checkIptablesNodePort(node, dump, w, svcChain)}` : '';
  return `KUBE-SERVICES ${w.clusterIP}:${w.port} → ${svcChain} → ${sepJumps.length} KUBE-SEP${probs.length ? ` (probability ${probs.join(', ')})` : ''} → DNAT ${[...dnat].join(', ')}${np}`;
}

/**
 * KUBE-NODEPORTS --dport N → KUBE-EXT → (masquerade) → KUBE-SVC (Cluster), or
 * → KUBE-SVL when this node runs an endpoint (Local); a Local node without one
 * drops the NodePort in filter KUBE-EXTERNAL-SERVICES instead.
 */
async function checkIptablesNodePort(node: LabNode, dump: SavedDump, w: ExpectedServicePort, svcChain: string): Promise<string> {
  if (!w.nodePort) throw new CheckFailed(`service ${w.ns}/${w.name} has no nodePort`);
  const np = findChain(dump, 'nat', 'KUBE-NODEPORTS');
  const proto = w.protocol.toLowerCase();
  const extChain = externalChainName(w.key, proto);
  const hook = np?.rules.find((r) => r.jump === extChain && r.args.includes(String(w.nodePort)));
  if (!hook) throw new CheckFailed(`${node.name}: KUBE-NODEPORTS has no --dport ${w.nodePort} jump to ${extChain}`);
  const ext = findChain(dump, 'nat', extChain);
  if (!ext) throw new CheckFailed(`${node.name}: chain ${extChain} does not exist`);
  const masq = ext.rules.some((r) => r.jump === 'KUBE-MARK-MASQ');
  if (w.externalTrafficPolicy !== 'Local') {
    if (!ext.rules.some((r) => r.jump === svcChain)) throw new CheckFailed(`${node.name}: ${extChain} does not jump to ${svcChain}`);
    if (!masq) throw new CheckFailed(`${node.name}: ${extChain} does not mark external traffic for masquerade (eTP Cluster)`);
    return `KUBE-NODEPORTS :${w.nodePort} → ${extChain} (KUBE-MARK-MASQ) → ${svcChain}`;
  }
  const svl = localPolicyChainName(w.key, proto);
  const hasLocal = w.endpoints.some((e) => e.nodeName === node.name);
  const jumpsSvl = ext.rules.some((r) => r.jump === svl);
  if (hasLocal) {
    if (!jumpsSvl) throw new CheckFailed(`${node.name} runs an endpoint but ${extChain} does not jump to ${svl}`);
    return `KUBE-NODEPORTS :${w.nodePort} → ${extChain} → ${svl} (local endpoints only, client address kept)`;
  }
  if (jumpsSvl) throw new CheckFailed(`${node.name} runs no endpoint, yet ${extChain} jumps to ${svl}`);
  const filter = await node.exec(['iptables-save', '-t', 'filter'], { allowFailure: true });
  const ext2 = findChain(parseIptablesSave(filter.stdout), 'filter', 'KUBE-EXTERNAL-SERVICES');
  const drop = ext2?.rules.find((r) => r.target === 'DROP' && r.args.includes(String(w.nodePort)) && /has no local endpoints/.test(r.comment ?? ''));
  if (!drop) throw new CheckFailed(`${node.name} runs no endpoint of ${w.key}, but filter KUBE-EXTERNAL-SERVICES has no DROP for :${w.nodePort}`);
  return `${node.name}: no local endpoint → filter KUBE-EXTERNAL-SERVICES DROPs :${w.nodePort} ("${drop.comment}")`;
}
