// Readable nftables chain/set names, as upstream's nftables proxier builds them
// (pkg/proxy/nftables/proxier.go servicePortChainNameBase, hashAndTruncate):
// "HASH8-ns/svc/proto/port", so `nft list` shows which Service a chain serves,
// while the hash keeps near-identical names apart and unique after truncation.
import { NameMemo, sha256Base32 } from '../chain-names.ts';
import type { ServicePortName } from '../model.ts';

/** knftables.NameLengthMax (256) minus the longest prefix we use (16). */
export const CHAIN_NAME_BASE_MAX = 240;

export const NFT_PREFIX = {
  service: 'service-',
  local: 'local-',
  external: 'external-',
  firewall: 'firewall-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
} as const;

const names = new NameMemo();

/** Upstream hashAndTruncate: 8 hash characters, "-", the name; cut to 240 with "...". */
export function hashAndTruncate(name: string): string {
  return names.get(name, truncatedName);
}

function truncatedName(name: string): string {
  const out = `${sha256Base32(name).slice(0, 8)}-${name}`;
  return out.length > CHAIN_NAME_BASE_MAX ? `${out.slice(0, CHAIN_NAME_BASE_MAX - 3)}...` : out;
}

/** "ULMVA6XW-ns1/svc1/tcp/p80" — the part after "service-", "local-", "external-", "firewall-". */
export function servicePortChainNameBase(name: ServicePortName): string {
  return hashAndTruncate(`${name.namespace}/${name.name}/${name.protocol.toLowerCase()}/${name.port}`);
}

/**
 * "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80" — the part after "endpoint-" and "affinity-".
 * `endpoint` is "ip:port" or "[v6]:port"; IPv6 colons become dots (":" is illegal in nft names).
 */
export function endpointChainNameBase(name: ServicePortName, endpoint: string): string {
  const { ip, port } = splitHostPort(endpoint);
  const safeIP = ip.replaceAll(':', '.');
  return hashAndTruncate(`${name.namespace}/${name.name}/${name.protocol.toLowerCase()}/${name.port}__${safeIP}/${port}`);
}

export function nftServiceChain(name: ServicePortName): string {
  return NFT_PREFIX.service + servicePortChainNameBase(name);
}
export function nftLocalChain(name: ServicePortName): string {
  return NFT_PREFIX.local + servicePortChainNameBase(name);
}
export function nftExternalChain(name: ServicePortName): string {
  return NFT_PREFIX.external + servicePortChainNameBase(name);
}
export function nftFirewallChain(name: ServicePortName): string {
  return NFT_PREFIX.firewall + servicePortChainNameBase(name);
}
export function nftEndpointChain(name: ServicePortName, endpoint: string): string {
  return NFT_PREFIX.endpoint + endpointChainNameBase(name, endpoint);
}
export function nftAffinitySet(name: ServicePortName, endpoint: string): string {
  return NFT_PREFIX.affinity + endpointChainNameBase(name, endpoint);
}

/** The four chain names of one service port from one base (a render asks for them once per service). */
export function nftServicePortChains(name: ServicePortName): { service: string; local: string; external: string; firewall: string } {
  const base = servicePortChainNameBase(name);
  return { service: NFT_PREFIX.service + base, local: NFT_PREFIX.local + base, external: NFT_PREFIX.external + base, firewall: NFT_PREFIX.firewall + base };
}

/** Every name one service port's rules use: its four chains, and per endpoint a chain and an affinity set. */
export interface NftPortNames {
  chains: { service: string; local: string; external: string; firewall: string };
  endpoint(endpoint: string): { chain: string; affinitySet: string };
}

/** By service port key, then protocol: looked up with strings the port already has, not built per render. */
const portNames = new Map<string, Map<string, NftPortNames>>();
let portNamesCount = 0;
const MAX_PORT_NAMES = 1 << 16;

/**
 * The names of one service port, kept while the proxy runs (upstream keeps them in its
 * service and endpoint info): a render of 10,000 services otherwise spends its time
 * building and hashing name strings. Cleared when large, so churn stays bounded.
 */
export function nftPortNames(key: string, name: ServicePortName): NftPortNames {
  let byProtocol = portNames.get(key);
  let names = byProtocol?.get(name.protocol);
  if (names) return names;
  if (portNamesCount >= MAX_PORT_NAMES) {
    portNames.clear();
    portNamesCount = 0;
    byProtocol = undefined;
  }
  if (!byProtocol) portNames.set(key, (byProtocol = new Map()));
  const endpoints = new Map<string, { chain: string; affinitySet: string }>();
  names = {
    chains: nftServicePortChains(name),
    endpoint(endpoint) {
      let n = endpoints.get(endpoint);
      if (!n) endpoints.set(endpoint, (n = nftEndpointNames(name, endpoint)));
      return n;
    },
  };
  byProtocol.set(name.protocol, names);
  portNamesCount++;
  return names;
}

/** An endpoint's chain and affinity set names from one base. */
export function nftEndpointNames(name: ServicePortName, endpoint: string): { chain: string; affinitySet: string } {
  const base = endpointChainNameBase(name, endpoint);
  return { chain: NFT_PREFIX.endpoint + base, affinitySet: NFT_PREFIX.affinity + base };
}

/** Go's net.SplitHostPort for the two shapes kube-proxy produces. */
function splitHostPort(endpoint: string): { ip: string; port: string } {
  const v6 = endpoint.match(/^\[(.*)\]:(\d*)$/);
  if (v6) return { ip: v6[1], port: v6[2] };
  const i = endpoint.lastIndexOf(':');
  return i < 0 ? { ip: endpoint, port: '' } : { ip: endpoint.slice(0, i), port: endpoint.slice(i + 1) };
}
