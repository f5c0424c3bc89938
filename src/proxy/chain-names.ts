// iptables chain names for service ports and endpoints, as upstream kube-proxy
// derives them (pkg/proxy/iptables/proxier.go portProtoHash): the first 16
// characters of base32(sha256(...)), so every name fits iptables' 28-character
// limit and stays stable across restarts and nodes.
import { createHash } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (uppercase, no padding: callers only ever keep a prefix). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** base32(sha256(text)), the digest every kube-proxy name is cut from. */
export function sha256Base32(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest());
}

/**
 * A bounded cache of names by their input. Upstream computes a service's and an
 * endpoint's chain names once, when the object changes (newServiceInfo,
 * newEndpointInfo), not on every sync; hashing every name again made a render of
 * 10,000 services spend most of its time in sha256. Cleared when full, so a
 * long-running proxy with churning endpoints stays bounded.
 */
export class NameMemo {
  private readonly names = new Map<string, string>();
  constructor(private readonly max = 1 << 17) {}
  get(input: string, make: (input: string) => string): string {
    let name = this.names.get(input);
    if (name === undefined) {
      if (this.names.size >= this.max) this.names.clear();
      name = make(input);
      this.names.set(input, name);
    }
    return name;
  }
}

/** By service port key, then protocol as given: the port's hash and its endpoints' hashes. */
const hashes = new Map<string, Map<string, { hash: string; endpoints: Map<string, string> }>>();
let hashCount = 0;
const MAX_HASHES = 1 << 17;

/**
 * Upstream portProtoHash: 16 characters of base32(sha256(key + protocol [+ endpoint])).
 * Looked up by the strings the caller already has, so a render neither hashes nor
 * builds the input string again for a port or endpoint it has seen.
 */
function portProtoHash(key: string, protocol: string, endpoint = ''): string {
  let byProtocol = hashes.get(key);
  let port = byProtocol?.get(protocol);
  if (!port) {
    if (hashCount >= MAX_HASHES) {
      hashes.clear();
      hashCount = 0;
      byProtocol = undefined;
    }
    if (!byProtocol) hashes.set(key, (byProtocol = new Map()));
    port = { hash: sha256Base32(key + protocol.toLowerCase()).slice(0, 16), endpoints: new Map() };
    byProtocol.set(protocol, port);
    hashCount++;
  }
  if (endpoint === '') return port.hash;
  let hash = port.endpoints.get(endpoint);
  if (hash === undefined) {
    hash = sha256Base32(key + protocol.toLowerCase() + endpoint).slice(0, 16);
    port.endpoints.set(endpoint, hash);
    hashCount++;
  }
  return hash;
}

/** KUBE-SVC-…: the cluster-policy chain. `key` is "ns/svc:port" (ServicePortInfo.key). */
export function servicePortChainName(key: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(key, protocol)}`;
}

/** KUBE-SVL-…: the local-policy chain (eTP/iTP Local). */
export function localPolicyChainName(key: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(key, protocol)}`;
}

/** KUBE-EXT-…: where external traffic (NodePort, externalIPs, LB IPs) enters. */
export function externalChainName(key: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(key, protocol)}`;
}

/** KUBE-FW-…: loadBalancerSourceRanges filtering. */
export function firewallChainName(key: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(key, protocol)}`;
}

/** The four chain names of one service port from one hash (upstream's newServiceInfo computes them together). */
export function servicePortChainNames(key: string, protocol: string): { clusterPolicy: string; localPolicy: string; external: string; firewall: string } {
  const hash = portProtoHash(key, protocol);
  return { clusterPolicy: `KUBE-SVC-${hash}`, localPolicy: `KUBE-SVL-${hash}`, external: `KUBE-EXT-${hash}`, firewall: `KUBE-FW-${hash}` };
}

/** KUBE-SEP-…: one endpoint; `endpoint` is the normalised "ip:port" ("[v6]:port"). */
export function endpointChainName(key: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${portProtoHash(key, protocol, endpoint)}`;
}

/** The chain prefixes kube-proxy owns per service; only these are ever deleted as stale. */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'] as const;

export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
