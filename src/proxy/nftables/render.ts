// nftables mode: ProxyState -> the desired `ip kube-proxy` table, object for
// object what upstream's nftables proxier writes (pkg/proxy/nftables/proxier.go
// setupNFTables + syncProxyRules, the version with the pre-DNAT filter chains and
// cluster-ips-check). Pure: no host access. The transaction writers live in
// transaction.ts (full sync) and diff.ts (partial sync); they are re-exported
// here so callers need one import.
//
// The table is upstream's (tests compare it with TestOverallNFTablesRules and
// TestSyncProxyRulesRepeated). The transactions differ from upstream's in form only:
//  - a full sync flushes the six element containers and re-adds every element, where
//    upstream lists the kernel's elements and patches them (readOrReset);
//  - commands are grouped (fixed objects; then per service chains, sets, rules; then
//    elements) instead of interleaved per service;
//  - "changed service" is decided by comparing rendered chains, not by the change
//    tracker, and a change outside the services (ServiceCIDRs, nodePortAddresses)
//    forces a full sync instead of waiting for the next periodic one;
//  - no first-sync shortcut for endpoint chains that already exist (epChainSkipUpdate).
// nft 1.0.6 loads all of it; the one newer verb knftables has, `destroy`, is never used.
import type { EndpointInfo, ProxySettings, ProxyState, ServicePortInfo } from '../model.ts';
import { categorizeEndpoints } from '../topology.ts';
import { trafficTargets, type TrafficTarget } from '../traffic-policy.ts';
import { cidrContains, ipFamily, parseCidr } from '../../util/cidr.ts';
import { nftPortNames } from './names.ts';
import { attachRenderIndex, renderIndex, type ServiceFragment } from './fragments.ts';
import {
  CHAIN,
  MAP,
  NFT_FAMILY,
  NFT_TABLE,
  NFT_TABLE_COMMENT,
  SET,
  joinParts,
  type NftBaseChainSpec,
  type NftChain,
  type NftElement,
  type NftMap,
  type NftRule,
  type NftRuleset,
  type NftSet,
} from './ruleset.ts';

import { masqueradeMark } from '../iptables/render.ts';
export { fullTransaction, fullPlan, dumpRuleset } from './transaction.ts';
export { diffTransaction, diffPlan } from './diff.ts';

export interface RenderOptions {
  /**
   * Partial sync: re-render only these services (service port keys "ns/svc:port" or
   * "ns/svc"; every port of a named service is re-rendered, as upstream tracks changes
   * per Service) and reuse every other service's rendering from `previous` (a ruleset
   * this function returned). Without it every service is rendered.
   */
  reuse?: { previous: NftRuleset; changed: Set<string> };
  /**
   * The mark string as written into rules. Upstream formats 1<<masqueradeBit with
   * Go's "%#08x" ("0x00004000"); its unit tests inject "0x4000" instead.
   */
  masqueradeMark?: string;
}

/** Go's fmt.Sprintf("%#08x", v): "0x" counts towards the width of 8. */
export function masqueradeMarkFor(bit: number): string {
  // One formatting of Go's "%#08x" for every mode (Go pads the digits to 8, then adds 0x).
  return masqueradeMark(bit);
}

const IPV4_ADDR = 'ipv4_addr';
const VERDICT_KEY_TYPE = `${IPV4_ADDR} . inet_proto . inet_service : verdict`;
const PORT_KEY_TYPE = 'inet_proto . inet_service : verdict';
const NO_LOCALHOST = 'ip daddr != 127.0.0.0/8';
const DEST_TUPLE = 'ip daddr . meta l4proto . th dport';

// Upstream nftablesBaseChains: filter chains that must see pre-DNAT addresses run
// at dstnat-10; the rest at the standard priorities.
const BASE_CHAINS: Array<[string, NftBaseChainSpec]> = [
  [CHAIN.filterPreroutingPreDNAT, { type: 'filter', hook: 'prerouting', priority: -110 }],
  [CHAIN.filterOutputPreDNAT, { type: 'filter', hook: 'output', priority: -110 }],
  [CHAIN.filterInput, { type: 'filter', hook: 'input', priority: 0 }],
  [CHAIN.filterForward, { type: 'filter', hook: 'forward', priority: 0 }],
  [CHAIN.filterOutput, { type: 'filter', hook: 'output', priority: 0 }],
  [CHAIN.natPrerouting, { type: 'nat', hook: 'prerouting', priority: -100 }],
  [CHAIN.natOutput, { type: 'nat', hook: 'output', priority: -100 }],
  [CHAIN.natPostrouting, { type: 'nat', hook: 'postrouting', priority: 100 }],
];

// Upstream nftablesJumpChains: [target, from, extra match]. The endpoints checks
// hang off input/forward/output because `reject` was only valid there before 5.9.
const JUMP_CHAINS: Array<[string, string, string]> = [
  [CHAIN.nodePortEndpointsCheck, CHAIN.filterInput, 'ct state new'],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterInput, 'ct state new'],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterForward, 'ct state new'],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterOutput, 'ct state new'],
  [CHAIN.firewallCheck, CHAIN.filterPreroutingPreDNAT, 'ct state new'],
  [CHAIN.firewallCheck, CHAIN.filterOutputPreDNAT, 'ct state new'],
  [CHAIN.services, CHAIN.natOutput, ''],
  [CHAIN.services, CHAIN.natPrerouting, ''],
  [CHAIN.masquerading, CHAIN.natPostrouting, ''],
  [CHAIN.clusterIPsCheck, CHAIN.filterForward, 'ct state new'],
  [CHAIN.clusterIPsCheck, CHAIN.filterOutput, 'ct state new'],
];

/** The table under construction: chains by name in creation order, element containers keyed for dedup. */
class TableBuilder {
  readonly chains = new Map<string, NftChain>();
  readonly sets = new Map<string, NftSet & { byKey: Map<string, NftElement> }>();
  readonly maps = new Map<string, NftMap & { byKey: Map<string, NftElement> }>();
  readonly noLocalEndpoints = { internal: 0, external: 0 };
  readonly fragments = new Map<string, ServiceFragment>();
  /** The service port being rendered: what it writes is recorded for reuse. */
  private recording: ServiceFragment | undefined;

  chain(name: string, extra?: Partial<NftChain>): NftChain {
    let c = this.chains.get(name);
    if (!c) {
      c = extra ? { name, rules: [], ...extra } : { name, rules: [] };
      this.chains.set(name, c);
      this.recording?.chains.push(c);
    }
    return c;
  }

  rule(chain: string, rule: string, comment?: string): void {
    const r: NftRule = comment === undefined ? { rule } : { rule, comment };
    this.chain(chain).rules.push(r);
  }

  set(def: Omit<NftSet, 'elements'>): void {
    if (!this.sets.has(def.name)) {
      this.sets.set(def.name, { ...def, elements: [], byKey: new Map() });
      this.recording?.sets.push(def);
    }
  }

  map(def: Omit<NftMap, 'elements'>): void {
    if (!this.maps.has(def.name)) this.maps.set(def.name, { ...def, elements: [], byKey: new Map() });
  }

  /**
   * Upstream nftElementStorage.ensureElem: one element per key; a later value for
   * the same key replaces the earlier one (it issues delete+add).
   */
  element(container: string, el: NftElement, key = joinParts(el.key)): void {
    const c = this.sets.get(container) ?? this.maps.get(container);
    if (!c) throw new Error(`nftables render: no set or map "${container}"`);
    c.byKey.set(key, el);
    this.recording?.elements.push({ container, key, element: el });
  }

  /** Renders one service port through `write`, recording what it adds. */
  service(key: string, write: () => void): void {
    const before = { ...this.noLocalEndpoints };
    const frag: ServiceFragment = { chains: [], sets: [], elements: [], noLocal: { internal: 0, external: 0 } };
    this.recording = frag;
    try {
      write();
    } finally {
      this.recording = undefined;
    }
    frag.noLocal = { internal: this.noLocalEndpoints.internal - before.internal, external: this.noLocalEndpoints.external - before.external };
    this.fragments.set(key, frag);
  }

  /** Adds a service port's earlier rendering as it was; false (and nothing added) if one of its chains exists already. */
  replay(key: string, frag: ServiceFragment): boolean {
    if (frag.chains.some((c) => this.chains.has(c.name))) return false;
    for (const c of frag.chains) this.chains.set(c.name, c);
    for (const s of frag.sets) this.set(s);
    for (const { container, key: k, element } of frag.elements) this.element(container, element, k);
    this.noLocalEndpoints.internal += frag.noLocal.internal;
    this.noLocalEndpoints.external += frag.noLocal.external;
    this.fragments.set(key, frag);
    return true;
  }

  build(context: string): NftRuleset {
    const finish = <T extends { byKey: Map<string, NftElement>; elements: NftElement[] }>(c: T) => {
      const { byKey, ...rest } = c;
      return { ...rest, elements: [...byKey.values()] };
    };
    const rs: NftRuleset = {
      family: NFT_FAMILY,
      table: NFT_TABLE,
      comment: NFT_TABLE_COMMENT,
      chains: [...this.chains.values()],
      sets: [...this.sets.values()].map(finish),
      maps: [...this.maps.values()].map(finish),
      noLocalEndpoints: { ...this.noLocalEndpoints },
    };
    const elements = new Map<string, Map<string, NftElement>>();
    for (const [name, c] of [...this.sets, ...this.maps]) elements.set(name, c.byKey);
    attachRenderIndex(rs, { context, fragments: this.fragments, elements, chains: this.chains, sets: this.sets });
    return rs;
  }
}

/** Upstream NodePortAddresses for the IPv4 family: match-all, or the node IPs inside the CIDRs. */
export function nodePortIPv4s(settings: Pick<ProxySettings, 'nodeIPs' | 'nodePortAddresses'>): { matchAll: boolean; ips: string[] } {
  const primary = settings.nodeIPs.find((ip) => ipFamily(ip) === 4);
  const cidrs = settings.nodePortAddresses
    .flatMap((a) => (a === 'primary' ? (primary ? [`${primary}/32`] : []) : [a]))
    .map((a) => parseCidr(a, true))
    .filter((c) => c.family === 4);
  if (cidrs.length === 0 || cidrs.some((c) => c.prefix === 0)) return { matchAll: true, ips: [] };
  const ips = settings.nodeIPs.filter(
    // Upstream skips loopback with an error: localhost NodePorts are not supported in nftables mode.
    (ip) => ipFamily(ip) === 4 && !ip.startsWith('127.') && cidrs.some((c) => cidrContains(c, ip)),
  );
  return { matchAll: false, ips: [...new Set(ips)] };
}

function renderSetup(t: TableBuilder, state: ProxyState, settings: ProxySettings, mark: string, matchAll: boolean, npIPs: string[]): void {
  for (const [name, base] of BASE_CHAINS) t.chain(name, { base });
  for (const [target, from, extra] of JUMP_CHAINS) {
    t.chain(target);
    t.rule(from, [extra, 'jump', target].filter(Boolean).join(' '));
  }
  for (const name of [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading, CHAIN.markMasq]) t.chain(name);

  t.rule(CHAIN.markMasq, `mark set mark or ${mark}`);
  t.rule(CHAIN.masquerading, `mark and ${mark} == 0 return`);
  t.rule(CHAIN.masquerading, `mark set mark xor ${mark}`);
  t.rule(CHAIN.masquerading, 'masquerade fully-random');

  t.set({ name: SET.clusterIPs, type: IPV4_ADDR, comment: 'Active ClusterIPs' });
  t.rule(CHAIN.clusterIPsCheck, `ip daddr @${SET.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  // Upstream joins the family's ServiceCIDRs with "," (no spaces) inside one anonymous set.
  const serviceCIDRs = state.serviceCIDRs.filter((c) => parseCidr(c, true).family === 4);
  if (serviceCIDRs.length > 0) {
    t.rule(CHAIN.clusterIPsCheck, `ip daddr { ${serviceCIDRs.join(',')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }

  // With match-all nodePortAddresses upstream makes sure nodeport-ips does not exist.
  if (!matchAll) {
    t.set({ name: SET.nodePortIPs, type: IPV4_ADDR, comment: 'IPs that accept NodePort traffic' });
    for (const ip of npIPs) t.element(SET.nodePortIPs, { key: [ip] });
  }

  t.map({ name: MAP.noEndpointServices, type: VERDICT_KEY_TYPE, comment: 'vmap to drop or reject packets to services with no endpoints' });
  t.map({ name: MAP.noEndpointNodePorts, type: PORT_KEY_TYPE, comment: 'vmap to drop or reject packets to service nodeports with no endpoints' });
  t.chain(CHAIN.reject, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  t.rule(CHAIN.reject, 'reject');
  t.rule(CHAIN.serviceEndpointsCheck, `${DEST_TUPLE} vmap @${MAP.noEndpointServices}`);
  t.rule(
    CHAIN.nodePortEndpointsCheck,
    matchAll
      ? `${NO_LOCALHOST} meta l4proto . th dport vmap @${MAP.noEndpointNodePorts}`
      : `ip daddr @${SET.nodePortIPs} meta l4proto . th dport vmap @${MAP.noEndpointNodePorts}`,
  );

  t.map({ name: MAP.firewallIPs, type: VERDICT_KEY_TYPE, comment: 'destinations that are subject to LoadBalancerSourceRanges' });
  t.rule(CHAIN.firewallCheck, `${DEST_TUPLE} vmap @${MAP.firewallIPs}`);

  t.map({ name: MAP.serviceIPs, type: VERDICT_KEY_TYPE, comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic' });
  t.map({ name: MAP.serviceNodePorts, type: PORT_KEY_TYPE, comment: 'NodePort traffic' });
  t.rule(CHAIN.services, `${DEST_TUPLE} vmap @${MAP.serviceIPs}`);
  t.rule(
    CHAIN.services,
    matchAll
      ? `fib daddr type local ${NO_LOCALHOST} meta l4proto . th dport vmap @${MAP.serviceNodePorts}`
      : `ip daddr @${SET.nodePortIPs} meta l4proto . th dport vmap @${MAP.serviceNodePorts}`,
  );
}

interface ServiceContext {
  mark: string;
  nodeIP: string;
  clusterCIDR: string;
  masqueradeAll: boolean;
}

function renderService(t: TableBuilder, svc: ServicePortInfo, endpoints: EndpointInfo[], settings: ProxySettings, ctx: ServiceContext): void {
  const owner = svc.key;
  const protocol = svc.protocol.toLowerCase();
  const port = String(svc.port);
  const affinity = svc.sessionAffinityClientIP;
  const categorized = categorizeEndpoints(endpoints, svc, settings.nodeName);
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints: hasEndpoints } = categorized;

  const portNames = nftPortNames(svc.key, svc.name);
  const chains = portNames.chains;
  const names = (ep: EndpointInfo) => portNames.endpoint(ep.endpoint);

  for (const ep of allReachableEndpoints) t.chain(names(ep).chain, { owner });

  const clusterPolicyChain = chains.service;
  const usesClusterPolicyChain = clusterEndpoints.length > 0;
  if (usesClusterPolicyChain) t.chain(clusterPolicyChain, { owner });

  const localPolicyChain = chains.local;
  const usesLocalPolicyChain = localEndpoints.length > 0;
  if (usesLocalPolicyChain) t.chain(localPolicyChain, { owner });

  const { internal, external, hasInternalEndpoints, hasExternalEndpoints } = trafficTargets(svc, categorized);
  const policyChain = (target: TrafficTarget) => (target === 'local' ? localPolicyChain : clusterPolicyChain);
  const internalTrafficChain = policyChain(internal);
  const externalPolicyChain = policyChain(external);
  const externalTrafficChain = chains.external;
  // Needed even without external endpoints: it carries the local-traffic short-circuits.
  const usesExternalTrafficChain = hasEndpoints && svc.externallyAccessible;
  if (usesExternalTrafficChain) t.chain(externalTrafficChain, { owner });

  // The verdict for traffic that reaches no endpoints (read only then).
  const noEndpointsVerdict = (target: TrafficTarget) => (target === 'reject' ? `goto ${CHAIN.reject}` : 'drop');
  const internalVerdict = noEndpointsVerdict(internal);
  const externalVerdict = noEndpointsVerdict(external);
  if (internal === 'drop') t.noLocalEndpoints.internal++;
  if (external === 'drop') t.noLocalEndpoints.external++;

  t.element(SET.clusterIPs, { key: [svc.clusterIP] });
  if (hasInternalEndpoints) {
    t.element(MAP.serviceIPs, { key: [svc.clusterIP, protocol, port], value: [`goto ${internalTrafficChain}`] });
  } else {
    t.element(MAP.noEndpointServices, { key: [svc.clusterIP, protocol, port], value: [internalVerdict], comment: svc.key });
  }

  for (const ip of svc.externalIPs) {
    if (hasEndpoints) t.element(MAP.serviceIPs, { key: [ip, protocol, port], value: [`goto ${externalTrafficChain}`] });
    if (!hasExternalEndpoints) {
      t.element(MAP.noEndpointServices, { key: [ip, protocol, port], value: [externalVerdict], comment: svc.key });
    }
  }

  const usesFWChain = svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const fwChain = chains.firewall;
  if (usesFWChain) t.chain(fwChain, { owner });
  for (const lbip of svc.loadBalancerVIPs) {
    if (hasEndpoints) t.element(MAP.serviceIPs, { key: [lbip, protocol, port], value: [`goto ${externalTrafficChain}`] });
    if (usesFWChain) t.element(MAP.firewallIPs, { key: [lbip, protocol, port], value: [`goto ${fwChain}`] });
  }
  if (!hasExternalEndpoints) {
    for (const lbip of svc.loadBalancerVIPs) {
      t.element(MAP.noEndpointServices, { key: [lbip, protocol, port], value: [externalVerdict], comment: svc.key });
    }
  }

  if (svc.nodePort !== 0) {
    const key = [protocol, String(svc.nodePort)];
    // NodePorts are not subject to loadBalancerSourceRanges (upstream: "for better or for worse").
    if (hasEndpoints) t.element(MAP.serviceNodePorts, { key, value: [`goto ${externalTrafficChain}`] });
    if (!hasExternalEndpoints) t.element(MAP.noEndpointNodePorts, { key, value: [externalVerdict], comment: svc.key });
  }

  if (hasInternalEndpoints) {
    if (ctx.masqueradeAll) {
      t.rule(internalTrafficChain, `ip daddr ${svc.clusterIP} jump ${CHAIN.markMasq}`);
    } else if (ctx.clusterCIDR) {
      // Off-cluster traffic to a ClusterIP may bounce off-node: masquerade it.
      t.rule(internalTrafficChain, `ip daddr ${svc.clusterIP} ip saddr != ${ctx.clusterCIDR} jump ${CHAIN.markMasq}`);
    }
  }

  if (usesExternalTrafficChain) {
    if (!svc.externalPolicyLocal) {
      t.rule(externalTrafficChain, `jump ${CHAIN.markMasq}`);
    } else {
      if (ctx.clusterCIDR) {
        // Pod -> external IP skips both traffic policies, as if it went out to the LB and back.
        t.rule(externalTrafficChain, `ip saddr ${ctx.clusterCIDR} goto ${clusterPolicyChain}`, 'short-circuit pod traffic');
      }
      t.rule(externalTrafficChain, `fib saddr type local jump ${CHAIN.markMasq}`, 'masquerade local traffic');
      t.rule(externalTrafficChain, `fib saddr type local goto ${clusterPolicyChain}`, 'short-circuit local traffic');
    }
    if (hasExternalEndpoints) t.rule(externalTrafficChain, `goto ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    const sources = [...svc.loadBalancerSourceRanges];
    // A node reaching its own LB VIP loops back with the VIP as source: allow it when
    // the node itself is allowed.
    const allowFromNode =
      ctx.nodeIP !== '' && svc.loadBalancerSourceRanges.some((c) => cidrContains(parseCidr(c, true), ctx.nodeIP));
    if (allowFromNode) sources.push(...svc.loadBalancerVIPs);
    t.rule(fwChain, `ip saddr != { ${sources.join(' , ')} } drop`);
  }

  if (affinity) {
    for (const ep of allReachableEndpoints) {
      t.set({
        name: names(ep).affinitySet,
        type: IPV4_ADDR,
        // "dynamic" too: some kernels add it themselves and a later `add set` without it fails.
        flags: ['dynamic', 'timeout'],
        timeout: svc.stickyMaxAgeSeconds,
        owner,
      });
    }
  }

  if (usesClusterPolicyChain) writeServiceToEndpointRules(t, svc, clusterPolicyChain, clusterEndpoints, names);
  if (usesLocalPolicyChain) writeServiceToEndpointRules(t, svc, localPolicyChain, localEndpoints, names);

  for (const ep of allReachableEndpoints) {
    const { chain, affinitySet } = names(ep);
    // Hairpin: a pod reaching itself through the service must be masqueraded.
    t.rule(chain, `ip saddr ${ep.ip} jump ${CHAIN.markMasq}`);
    if (affinity) t.rule(chain, `update @${affinitySet} { ip saddr }`);
    t.rule(chain, `meta l4proto ${protocol} dnat to ${ep.endpoint}`);
  }
}

function writeServiceToEndpointRules(
  t: TableBuilder, svc: ServicePortInfo, chain: string, endpoints: EndpointInfo[], names: (ep: EndpointInfo) => { chain: string; affinitySet: string },
): void {
  if (svc.sessionAffinityClientIP) {
    for (const ep of endpoints) {
      t.rule(chain, `ip saddr @${names(ep).affinitySet} goto ${names(ep).chain}`);
    }
  }
  const entries = endpoints.map((ep, i) => `${i} : goto ${names(ep).chain}`);
  t.rule(chain, `numgen random mod ${endpoints.length} vmap { ${entries.join(' , ')} }`);
}

/** The whole `ip kube-proxy` table this node should have. */
export function renderNftables(state: ProxyState, settings: ProxySettings, opts: RenderOptions = {}): NftRuleset {
  const t = new TableBuilder();
  const mark = opts.masqueradeMark ?? masqueradeMarkFor(settings.masqueradeBit);
  const { matchAll, ips } = nodePortIPv4s(settings);
  renderSetup(t, state, settings, mark, matchAll, ips);

  const clusterCIDR = settings.clusterCIDR && parseCidr(settings.clusterCIDR, true).family === 4 ? settings.clusterCIDR : '';
  const ctx: ServiceContext = {
    mark,
    nodeIP: settings.nodeIPs.find((ip) => ipFamily(ip) === 4) ?? '',
    clusterCIDR,
    masqueradeAll: settings.masqueradeAll,
  };
  // Everything renderService reads besides the service and its endpoints.
  const context = JSON.stringify([ctx, settings.nodeName]);
  const previous = opts.reuse && renderIndex(opts.reuse.previous);
  const reusable = previous?.context === context ? previous.fragments : undefined;
  const changedServices = new Set([...(opts.reuse?.changed ?? [])].map(serviceOf));

  // Upstream walks a Go map (random order); sorting keeps our output stable.
  const keys = [...state.services.keys()].sort();
  for (const key of keys) {
    const svc = state.services.get(key)!;
    // Headless and other-family services never reach upstream's service map. (clusterIP is
    // normalised or "": IPv4 exactly when it has no colon, without re-parsing it per service.)
    if (!svc.clusterIP || svc.clusterIP.includes(':')) continue;
    const earlier = changedServices.has(serviceOf(key)) ? undefined : reusable?.get(key);
    if (earlier && t.replay(key, earlier)) continue;
    t.service(key, () => renderService(t, svc, state.endpoints.get(key) ?? [], settings, ctx));
  }
  return t.build(context);
}

/** "ns/svc:port" or "ns/svc" -> "ns/svc" (names cannot contain ':'). */
function serviceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(0, i);
}
