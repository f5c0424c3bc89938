// The ipsets of kube-proxy's IPVS mode: names, types and comments as upstream
// defines them (pkg/proxy/ipvs/ipset.go, proxier.go ipsetInfo), and entries in
// the exact text `ipset` accepts and `ipset save` prints back, so a desired
// entry and a listed one compare as plain strings.
import type { IpSet, IpSetType } from './types.ts';

export const KUBE_LOOP_BACK = 'KUBE-LOOP-BACK';
export const KUBE_CLUSTER_IP = 'KUBE-CLUSTER-IP';
export const KUBE_EXTERNAL_IP = 'KUBE-EXTERNAL-IP';
export const KUBE_EXTERNAL_IP_LOCAL = 'KUBE-EXTERNAL-IP-LOCAL';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_LOAD_BALANCER_FW = 'KUBE-LOAD-BALANCER-FW';
export const KUBE_LOAD_BALANCER_LOCAL = 'KUBE-LOAD-BALANCER-LOCAL';
export const KUBE_LOAD_BALANCER_SOURCE_IP = 'KUBE-LOAD-BALANCER-SOURCE-IP';
export const KUBE_LOAD_BALANCER_SOURCE_CIDR = 'KUBE-LOAD-BALANCER-SOURCE-CIDR';
export const KUBE_NODE_PORT_TCP = 'KUBE-NODE-PORT-TCP';
export const KUBE_NODE_PORT_LOCAL_TCP = 'KUBE-NODE-PORT-LOCAL-TCP';
export const KUBE_NODE_PORT_UDP = 'KUBE-NODE-PORT-UDP';
export const KUBE_NODE_PORT_LOCAL_UDP = 'KUBE-NODE-PORT-LOCAL-UDP';
export const KUBE_NODE_PORT_SCTP = 'KUBE-NODE-PORT-SCTP-HASH';
export const KUBE_NODE_PORT_LOCAL_SCTP = 'KUBE-NODE-PORT-LOCAL-SCTP-HASH';
export const KUBE_HEALTH_CHECK_NODE_PORT = 'KUBE-HEALTH-CHECK-NODE-PORT';
export const KUBE_IPVS_IPS = 'KUBE-IPVS-IPS';

export interface IpSetInfo {
  name: string;
  type: IpSetType;
  comment: string;
}

/** Upstream's ipsetInfo, in its order (which is also the order of `ipset restore` creates). */
export const IPSET_INFO: readonly IpSetInfo[] = [
  { name: KUBE_LOOP_BACK, type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { name: KUBE_CLUSTER_IP, type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { name: KUBE_EXTERNAL_IP, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { name: KUBE_EXTERNAL_IP_LOCAL, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { name: KUBE_LOAD_BALANCER, type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { name: KUBE_LOAD_BALANCER_FW, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { name: KUBE_LOAD_BALANCER_LOCAL, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { name: KUBE_LOAD_BALANCER_SOURCE_IP, type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { name: KUBE_LOAD_BALANCER_SOURCE_CIDR, type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { name: KUBE_NODE_PORT_TCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { name: KUBE_NODE_PORT_LOCAL_TCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { name: KUBE_NODE_PORT_UDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { name: KUBE_NODE_PORT_LOCAL_UDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { name: KUBE_NODE_PORT_SCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { name: KUBE_NODE_PORT_LOCAL_SCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { name: KUBE_HEALTH_CHECK_NODE_PORT, type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: KUBE_IPVS_IPS, type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

export function ipsetInfo(name: string): IpSetInfo {
  const info = IPSET_INFO.find((s) => s.name === name);
  if (!info) throw new Error(`unknown kube-proxy ipset ${name}`);
  return info;
}

/** Upstream's IPSet defaults (setIPSetDefaults): what `create` is given. */
export const IPSET_HASH_SIZE = 1024;
export const IPSET_MAX_ELEM = 65536;
export const IPSET_PORT_RANGE = '0-65535';

// Entry.String() in pkg/proxy/ipvs/ipset/ipset.go, one helper per set type.
export const entryIP = (ip: string) => ip;
export const entryIPPort = (ip: string, proto: string, port: number) => `${ip},${proto.toLowerCase()}:${port}`;
export const entryIPPortIP = (ip: string, proto: string, port: number, ip2: string) => `${ip},${proto.toLowerCase()}:${port},${ip2}`;
export const entryIPPortNet = (ip: string, proto: string, port: number, net: string) => `${ip},${proto.toLowerCase()}:${port},${net}`;
export const entryPort = (port: number) => String(port);

/**
 * The entry as the kernel hands it back. ipset prints a /32 net as the bare
 * address ("10.0.0.1/32" lists as "10.0.0.1", measured with ipset 7.17), so
 * without this a source range of one host would be re-added on every sync.
 */
export function canonicalEntry(type: IpSetType, entry: string): string {
  const e = entry.trim();
  if (type === 'hash:ip,port,net') return e.replace(/\/32$/, '');
  if (type === 'hash:ip,port' || type === 'hash:ip,port,ip') return e.replace(/,([A-Za-z]+):/, (_m, p: string) => `,${p.toLowerCase()}:`);
  return e;
}

/** All sets, empty, in upstream order: kube-proxy ensures every one exists on every sync. */
export function emptyIpSets(): IpSet[] {
  return IPSET_INFO.map((s) => ({ name: s.name, type: s.type, comment: s.comment, entries: [] }));
}
