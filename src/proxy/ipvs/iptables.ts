// The small, constant iptables rule set the IPVS proxier still needs: masquerade
// marks, the loop-back (hairpin) masquerade, NodePort/LB/firewall dispatch by
// ipset membership. Rule for rule as upstream writeIptablesRules() writes them
// (pkg/proxy/ipvs/proxier.go), including which rules are skipped for empty sets.
import type { ProxySettings } from '../model.ts';
import type { JumpRule } from '../jump-rules.ts';
import {
  ipsetInfo, KUBE_CLUSTER_IP, KUBE_EXTERNAL_IP, KUBE_EXTERNAL_IP_LOCAL, KUBE_HEALTH_CHECK_NODE_PORT, KUBE_IPVS_IPS,
  KUBE_LOAD_BALANCER, KUBE_LOAD_BALANCER_FW, KUBE_LOAD_BALANCER_LOCAL, KUBE_LOAD_BALANCER_SOURCE_CIDR,
  KUBE_LOAD_BALANCER_SOURCE_IP, KUBE_LOOP_BACK, KUBE_NODE_PORT_LOCAL_SCTP, KUBE_NODE_PORT_LOCAL_TCP,
  KUBE_NODE_PORT_LOCAL_UDP, KUBE_NODE_PORT_SCTP, KUBE_NODE_PORT_TCP, KUBE_NODE_PORT_UDP,
} from './ipsets.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_NODE_PORT = 'KUBE-NODE-PORT';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_LOAD_BALANCER_CHAIN = 'KUBE-LOAD-BALANCER';
export const KUBE_IPVS_FILTER = 'KUBE-IPVS-FILTER';
export const KUBE_IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';

/** Upstream iptablesChains, in order. */
export const IPVS_NAT_CHAINS = [KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER_CHAIN, KUBE_MARK_MASQ];
export const IPVS_FILTER_CHAINS = [KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL, KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER];

/** Upstream iptablesJumpChain: all prepended to the built-in chains. */
export const IPVS_JUMPS: readonly JumpRule[] = [
  { table: 'nat', from: 'OUTPUT', to: KUBE_SERVICES, comment: 'kubernetes service portals', position: 'prepend' },
  { table: 'nat', from: 'PREROUTING', to: KUBE_SERVICES, comment: 'kubernetes service portals', position: 'prepend' },
  { table: 'nat', from: 'POSTROUTING', to: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', position: 'prepend' },
  { table: 'filter', from: 'FORWARD', to: KUBE_FORWARD, comment: 'kubernetes forwarding rules', position: 'prepend' },
  { table: 'filter', from: 'INPUT', to: KUBE_NODE_PORT, comment: 'kubernetes health check rules', position: 'prepend' },
  { table: 'filter', from: 'INPUT', to: KUBE_PROXY_FIREWALL, comment: 'kube-proxy firewall rules', position: 'prepend' },
  { table: 'filter', from: 'FORWARD', to: KUBE_PROXY_FIREWALL, comment: 'kube-proxy firewall rules', position: 'prepend' },
  { table: 'filter', from: 'INPUT', to: KUBE_IPVS_FILTER, comment: 'kubernetes ipvs access filter', position: 'prepend' },
  { table: 'filter', from: 'OUTPUT', to: KUBE_IPVS_OUT_FILTER, comment: 'kubernetes ipvs access filter', position: 'prepend' },
];

/**
 * Upstream ipsetWithIptablesChain: one rule per non-empty set, in this order.
 * The *-LOCAL NodePort sets come before their plain sets so RETURN wins over MASQ.
 */
const SET_RULES: { set: string; table: 'nat' | 'filter'; from: string; to: string; match: string; proto?: string }[] = [
  { set: KUBE_LOOP_BACK, table: 'nat', from: KUBE_POSTROUTING, to: 'MASQUERADE', match: 'dst,dst,src' },
  { set: KUBE_LOAD_BALANCER, table: 'nat', from: KUBE_SERVICES, to: KUBE_LOAD_BALANCER_CHAIN, match: 'dst,dst' },
  { set: KUBE_LOAD_BALANCER_LOCAL, table: 'nat', from: KUBE_LOAD_BALANCER_CHAIN, to: 'RETURN', match: 'dst,dst' },
  { set: KUBE_NODE_PORT_LOCAL_TCP, table: 'nat', from: KUBE_NODE_PORT, to: 'RETURN', match: 'dst', proto: 'tcp' },
  { set: KUBE_NODE_PORT_TCP, table: 'nat', from: KUBE_NODE_PORT, to: KUBE_MARK_MASQ, match: 'dst', proto: 'tcp' },
  { set: KUBE_NODE_PORT_LOCAL_UDP, table: 'nat', from: KUBE_NODE_PORT, to: 'RETURN', match: 'dst', proto: 'udp' },
  { set: KUBE_NODE_PORT_UDP, table: 'nat', from: KUBE_NODE_PORT, to: KUBE_MARK_MASQ, match: 'dst', proto: 'udp' },
  { set: KUBE_NODE_PORT_LOCAL_SCTP, table: 'nat', from: KUBE_NODE_PORT, to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { set: KUBE_NODE_PORT_SCTP, table: 'nat', from: KUBE_NODE_PORT, to: KUBE_MARK_MASQ, match: 'dst,dst', proto: 'sctp' },
  { set: KUBE_LOAD_BALANCER_FW, table: 'filter', from: KUBE_PROXY_FIREWALL, to: KUBE_SOURCE_RANGES_FIREWALL, match: 'dst,dst' },
  { set: KUBE_LOAD_BALANCER_SOURCE_CIDR, table: 'filter', from: KUBE_SOURCE_RANGES_FIREWALL, to: 'RETURN', match: 'dst,dst,src' },
  { set: KUBE_LOAD_BALANCER_SOURCE_IP, table: 'filter', from: KUBE_SOURCE_RANGES_FIREWALL, to: 'RETURN', match: 'dst,dst,src' },
];

/** An LB IP:port:proto that node-originated traffic must not reach (issue #119656). */
export interface NoNodeAccessEntry {
  ip: string;
  proto: string;
  port: number;
}

/** The masquerade mark: 1 << masqueradeBit, as iptables-save prints it (0x4000 for bit 14). */
export function masqueradeMark(bit: number): string {
  return `0x${(1 << bit).toString(16)}`;
}

// Upstream writes the comment with literal quotes into the restore buffer.
const comment = (set: string) => `"${ipsetInfo(set).comment}"`;

export function renderIpvsIptables(
  nonEmpty: (set: string) => boolean,
  settings: Pick<ProxySettings, 'masqueradeAll' | 'clusterCIDR' | 'masqueradeBit' | 'randomFully'>,
  noNodeAccess: NoNodeAccessEntry[],
): string {
  const nat: string[] = [];
  const filter: string[] = [];
  const mark = masqueradeMark(settings.masqueradeBit);
  const w = (table: string[], ...args: string[]) => table.push(args.join(' '));

  // Dismiss connections from localhost early in the service chain.
  w(nat, '-A', KUBE_SERVICES, '-s', '127.0.0.0/8', '-j', 'RETURN');

  for (const r of SET_RULES) {
    if (!nonEmpty(r.set)) continue;
    const args = ['-A', r.from, ...(r.proto ? ['-p', r.proto] : []), '-m', 'comment', '--comment', comment(r.set), '-m', 'set', '--match-set', r.set, r.match, '-j', r.to];
    w(r.table === 'nat' ? nat : filter, ...args);
  }

  if (nonEmpty(KUBE_CLUSTER_IP)) {
    const base = ['-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment(KUBE_CLUSTER_IP), '-m', 'set', '--match-set', KUBE_CLUSTER_IP];
    if (settings.masqueradeAll) w(nat, ...base, 'dst,dst', '-j', KUBE_MARK_MASQ);
    // The ClusterCIDR local-traffic detector: masquerade off-cluster traffic to a VIP.
    else if (settings.clusterCIDR) w(nat, ...base, 'dst,dst', '!', '-s', settings.clusterCIDR, '-j', KUBE_MARK_MASQ);
    // No detector: masquerade node-originated traffic whose source is a VIP on kube-ipvs0.
    else w(nat, ...base, 'src,dst', '-j', KUBE_MARK_MASQ);
  }

  // Traffic to external IPs from off the machine (not a bridge, not local) or to a local IP.
  const externalIPRules = (args: string[]) => {
    w(nat, ...args, '-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', 'ACCEPT');
    w(nat, ...args, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT');
  };
  if (nonEmpty(KUBE_EXTERNAL_IP)) {
    const args = ['-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment(KUBE_EXTERNAL_IP), '-m', 'set', '--match-set', KUBE_EXTERNAL_IP, 'dst,dst'];
    w(nat, ...args, '-j', KUBE_MARK_MASQ);
    externalIPRules(args);
  }
  if (nonEmpty(KUBE_EXTERNAL_IP_LOCAL)) {
    externalIPRules(['-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment(KUBE_EXTERNAL_IP_LOCAL), '-m', 'set', '--match-set', KUBE_EXTERNAL_IP_LOCAL, 'dst,dst']);
  }

  w(nat, '-A', KUBE_SERVICES, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', KUBE_NODE_PORT);
  w(nat, '-A', KUBE_LOAD_BALANCER_CHAIN, '-j', KUBE_MARK_MASQ);
  w(filter, '-A', KUBE_SOURCE_RANGES_FIREWALL, '-j', 'DROP');

  // For IPVS a node-originated packet to an LB IP has the LB IP as source too.
  for (const e of noNodeAccess) {
    w(filter, '-A', KUBE_IPVS_OUT_FILTER, '-s', e.ip, '-m', 'ipvs', '--vaddr', e.ip, '--vproto', e.proto, '--vport', String(e.port), '-j', 'DROP');
  }

  // acceptIPVSTraffic: must stay at the end of KUBE-SERVICES.
  for (const set of [KUBE_CLUSTER_IP, KUBE_LOAD_BALANCER]) {
    if (nonEmpty(set)) w(nat, '-A', KUBE_SERVICES, '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'ACCEPT');
  }

  w(filter, '-A', KUBE_FORWARD, '-m', 'comment', '--comment', '"kubernetes forwarding rules"', '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  w(filter, '-A', KUBE_FORWARD, '-m', 'comment', '--comment', '"kubernetes forwarding conntrack rule"', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
  w(filter, '-A', KUBE_NODE_PORT, '-m', 'comment', '--comment', comment(KUBE_HEALTH_CHECK_NODE_PORT), '-m', 'set', '--match-set', KUBE_HEALTH_CHECK_NODE_PORT, 'dst', '-j', 'ACCEPT');

  // KUBE-IPVS-FILTER: no access to host ports through a VIP (issue #72236).
  for (const set of [KUBE_LOAD_BALANCER, KUBE_CLUSTER_IP, KUBE_EXTERNAL_IP, KUBE_EXTERNAL_IP_LOCAL]) {
    w(filter, '-A', KUBE_IPVS_FILTER, '-m', 'set', '--match-set', set, 'dst,dst', '-j', 'RETURN');
  }
  w(filter, '-A', KUBE_IPVS_FILTER, '-m', 'set', '--match-set', KUBE_HEALTH_CHECK_NODE_PORT, 'dst', '-j', 'RETURN');
  w(filter, '-A', KUBE_IPVS_FILTER, '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'set', '--match-set', KUBE_IPVS_IPS, 'dst', '-j', 'REJECT');

  w(nat, '-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clear the mark so a packet that re-traverses the stack is not masqueraded twice.
  w(nat, '-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  w(nat, '-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', '"kubernetes service traffic requiring SNAT"', '-j', 'MASQUERADE', ...(settings.randomFully ? ['--random-fully'] : []));
  w(nat, '-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  // Upstream writes nat chains, nat rules, filter chains, filter rules.
  return [
    '*nat',
    ...IPVS_NAT_CHAINS.map((c) => `:${c} - [0:0]`),
    ...nat,
    'COMMIT',
    '*filter',
    ...IPVS_FILTER_CHAINS.map((c) => `:${c} - [0:0]`),
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
}
