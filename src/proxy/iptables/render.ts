// iptables mode: ProxyState + settings -> the restore payload upstream kube-proxy
// writes in syncProxyRules (pkg/proxy/iptables/proxier.go). Pure: the host is
// only touched by whoever feeds `text` to `iptables-restore --noflush --counters`.
import type { ProxySettings, ProxyState } from '../model.ts';
import { isServiceChainName } from '../chain-names.ts';
import { isLoopbackIPv4, nodePortAddresses, nodePortIPs, primaryNodeIPv4 } from '../node-port-addresses.ts';
import { parseCidr } from '../../util/cidr.ts';
import { TableBuffer, type IptablesRuleset } from './ruleset.ts';
import {
  KUBE_EXTERNAL_SERVICES, KUBE_FIREWALL, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL, KUBE_SERVICES, NFACCT_CT_INVALID, writeServicePort, type SyncContext,
} from './service-rules.ts';

export type { IptablesRuleset, IptablesRule, IptablesTable, TableName } from './ruleset.ts';

export interface RenderOptions {
  /** Chains `iptables-save -t nat` lists now; stale kube-proxy service chains among them get `-X`. */
  existingNatChains?: string[];
  /**
   * Partial sync (MinimizeIPTablesRestore): only these services get their SVC/SVL/EXT/FW/SEP
   * chains rewritten. Entries are service port keys ("ns/svc:port") or "ns/svc"; as upstream
   * tracks changes per Service, every port of a named service is rewritten. Absent = full sync.
   */
  changed?: Set<string>;
  /**
   * The mark as written. Upstream formats 1<<bit with Go's %#08x ("0x00004000"); its unit
   * tests inject "0x4000" instead, so the golden tests pass that.
   */
  masqueradeMark?: string;
}

/** Go's fmt.Sprintf("%#08x", v): eight zero-padded digits, then the 0x prefix. */
export function masqueradeMark(bit: number): string {
  return `0x${(1 << bit >>> 0).toString(16).padStart(8, '0')}`;
}

/** "ns/svc:port" or "ns/svc" -> "ns/svc" (names cannot contain ':'). */
function serviceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(0, i);
}

export function isLargeCluster(state: ProxyState, settings: Pick<ProxySettings, 'largeClusterEndpointsThreshold'>): boolean {
  let total = 0;
  for (const key of state.services.keys()) total += state.endpoints.get(key)?.length ?? 0;
  return total > settings.largeClusterEndpointsThreshold;
}

export function renderIptables(state: ProxyState, settings: ProxySettings, opts: RenderOptions = {}): IptablesRuleset {
  const mark = opts.masqueradeMark ?? masqueradeMark(settings.masqueradeBit);
  const npa = nodePortAddresses(settings);
  // Upstream NewProxier: localhost NodePorts need a nodePortAddresses range that covers 127.0.0.1.
  const localhostNodePorts = settings.localhostNodePorts && npa.containsIPv4Loopback;
  const fullSync = opts.changed === undefined;
  const changedServices = new Set([...(opts.changed ?? [])].map(serviceOf));

  const filter = new TableBuffer('filter');
  const nat = new TableBuffer('nat');
  const skipped = new TableBuffer('nat', true);

  for (const chain of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filter.chain(chain);
  for (const chain of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) nat.chain(chain);

  nat.rule(KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clear the mark so a packet re-traversing the stack is not masqueraded twice.
  nat.rule(KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  nat.rule(KUBE_POSTROUTING, '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE',
    settings.randomFully ? ['--random-fully'] : []);
  nat.rule(KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  if (localhostNodePorts) {
    // route_localnet=1 (needed for localhost NodePorts) lets martians in; kubelet's rule, duplicated
    // by kube-proxy, drops them (https://issue.k8s.io/90259).
    filter.chain(KUBE_FIREWALL);
    filter.rule(KUBE_FIREWALL, '-m', 'comment', '--comment', 'block incoming localnet connections',
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP');
  }

  let localDetector: SyncContext['localDetector'];
  if (settings.clusterCIDR.trim()) {
    const cidr = settings.clusterCIDR.trim();
    parseCidr(cidr, true); // fail early on a bad --cluster-cidr rather than in iptables-restore
    localDetector = { ifLocal: ['-s', cidr], ifNotLocal: ['!', '-s', cidr] };
  }

  const ctx: SyncContext = {
    nodeName: settings.nodeName,
    nodeIP: primaryNodeIPv4(settings),
    masqueradeAll: settings.masqueradeAll,
    localDetector,
    localhostNodePorts,
    hasNfacct: settings.hasNfacct,
    largeClusterMode: isLargeCluster(state, settings),
    filter,
    nat,
    activeNatChains: new Set(),
    noLocalEndpoints: { internal: 0, external: 0 },
  };

  // Upstream walks a Go map (random order); sorting keeps our payload stable between syncs.
  for (const key of [...state.services.keys()].sort()) {
    const svc = state.services.get(key)!;
    const rewrite = fullSync || changedServices.has(serviceOf(key));
    writeServicePort(ctx, svc, state.endpoints.get(key) ?? [], rewrite ? nat : skipped);
  }

  // Chains no longer in use: flush (chain line) then delete. Only kube-proxy's service chains.
  const stale = [...new Set(opts.existingNatChains ?? [])]
    .filter((c) => isServiceChainName(c) && !ctx.activeNatChains.has(c))
    .sort();
  for (const chain of stale) {
    nat.chain(chain);
    nat.deleteChain(chain);
  }

  // The NodePort hook must come after every service rule in KUBE-SERVICES.
  const lastRuleComment = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
  if (npa.matchAll) {
    // Localhost NodePorts only work for IPv4 with route_localnet, which we set only when enabled.
    const notLocalhost = localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8'];
    nat.rule(KUBE_SERVICES, '-m', 'comment', '--comment', lastRuleComment, '-m', 'addrtype', '--dst-type', 'LOCAL', notLocalhost, '-j', KUBE_NODEPORTS);
  } else {
    for (const ip of nodePortIPs(npa, settings.nodeIPs)) {
      if (isLoopbackIPv4(ip) && !localhostNodePorts) continue;
      nat.rule(KUBE_SERVICES, '-m', 'comment', '--comment', lastRuleComment, '-d', ip, '-j', KUBE_NODEPORTS);
    }
  }

  // INVALID packets can reset connections unless the kernel is liberal about TCP windows
  // (kubernetes#74839, #117924).
  if (!settings.conntrackTCPBeLiberal) {
    filter.rule(KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID',
      settings.hasNfacct ? ['-m', 'nfacct', '--nfacct-name', NFACCT_CT_INVALID] : [], '-j', 'DROP');
  }
  // Marked traffic is forwarded even when the FORWARD policy is DROP (NodePorts to other nodes).
  filter.rule(KUBE_FORWARD, '-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  filter.rule(KUBE_FORWARD, '-m', 'comment', '--comment', 'kubernetes forwarding conntrack rule', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');

  // The tables as data are built on first use: a sync only needs the text.
  let filterTable: IptablesRuleset['filter'] | undefined;
  let natTable: IptablesRuleset['nat'] | undefined;
  return {
    get filter() {
      return (filterTable ??= filter.toTable());
    },
    get nat() {
      return (natTable ??= nat.toTable());
    },
    text: filter.text() + nat.text(),
    counts: { filter: filter.count, nat: nat.count + skipped.count },
    lastSync: { filter: filter.count, nat: nat.count },
    activeNatChains: ctx.activeNatChains,
    largeClusterMode: ctx.largeClusterMode,
    noLocalEndpoints: ctx.noLocalEndpoints,
    fullSync,
  };
}
