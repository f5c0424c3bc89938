// The nftables-mode desired state as plain data: one table `ip kube-proxy` with
// its chains, sets and maps, exactly what upstream's nftables proxier
// (pkg/proxy/nftables/proxier.go) builds through knftables. Rendering fills it,
// the transaction writers turn it into `nft -f -` text, tests dump it.

export const NFT_FAMILY = 'ip';
export const NFT_TABLE = 'kube-proxy';
export const NFT_TABLE_COMMENT = 'rules for kube-proxy';

// Upstream's fixed object names (proxier.go constants).
export const CHAIN = {
  filterPreroutingPreDNAT: 'filter-prerouting-pre-dnat',
  filterOutputPreDNAT: 'filter-output-pre-dnat',
  filterInput: 'filter-input',
  filterForward: 'filter-forward',
  filterOutput: 'filter-output',
  natPrerouting: 'nat-prerouting',
  natOutput: 'nat-output',
  natPostrouting: 'nat-postrouting',
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallCheck: 'firewall-check',
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
} as const;

export const SET = { clusterIPs: 'cluster-ips', nodePortIPs: 'nodeport-ips' } as const;

export const MAP = {
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  firewallIPs: 'firewall-ips',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
} as const;

/** The element containers a sync keeps in step element by element (upstream's nftElementStorage). */
export const ELEMENT_CONTAINERS = [
  SET.clusterIPs,
  MAP.serviceIPs,
  MAP.firewallIPs,
  MAP.noEndpointServices,
  MAP.noEndpointNodePorts,
  MAP.serviceNodePorts,
] as const;

export interface NftBaseChainSpec {
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** Numeric, as knftables writes it (ParsePriority): older nft rejects "dstnat" on the output hook. */
  priority: number;
}

export interface NftRule {
  rule: string;
  comment?: string;
}

export interface NftChain {
  name: string;
  base?: NftBaseChainSpec;
  comment?: string;
  rules: NftRule[];
  /** Service port key ("ns/svc:port") whose sync writes this chain; unset for the fixed chains. */
  owner?: string;
}

export interface NftElement {
  key: string[];
  /** Map value (a verdict); absent for set elements. */
  value?: string[];
  comment?: string;
}

export interface NftSet {
  name: string;
  type: string;
  flags?: string[];
  /** Seconds. */
  timeout?: number;
  comment?: string;
  elements: NftElement[];
  /** Service port key for per-endpoint affinity sets. */
  owner?: string;
}

export interface NftMap {
  name: string;
  type: string;
  comment?: string;
  elements: NftElement[];
}

export interface NftRuleset {
  family: typeof NFT_FAMILY;
  table: typeof NFT_TABLE;
  comment: string;
  /** In upstream's creation order: base chains, jump targets, fixed chains, then per service. */
  chains: NftChain[];
  sets: NftSet[];
  maps: NftMap[];
  /** Upstream's sync_proxy_rules_no_local_endpoints_total inputs: services whose Local policy has no local endpoint. */
  noLocalEndpoints?: { internal: number; external: number };
}

/** Upstream isServiceChainName: per-service chain names always contain "/", fixed ones never do. */
export function isServiceChainName(name: string): boolean {
  return name.includes('/');
}

/** Upstream isAffinitySetName. */
export function isAffinitySetName(name: string): boolean {
  return name.startsWith('affinity-');
}

export function findChain(rs: NftRuleset, name: string): NftChain | undefined {
  return rs.chains.find((c) => c.name === name);
}

export function findSet(rs: NftRuleset, name: string): NftSet | undefined {
  return rs.sets.find((s) => s.name === name);
}

export function findMap(rs: NftRuleset, name: string): NftMap | undefined {
  return rs.maps.find((m) => m.name === name);
}

/** knftables joins multi-part keys and values with " . ". */
export function joinParts(parts: string[]): string {
  return parts.join(' . ');
}
