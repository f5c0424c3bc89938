// --nodeport-addresses, as upstream's proxyutil.NodePortAddresses reads it
// (pkg/proxy/util/nodeport_addresses.go), for the IPv4 family: which node IPs
// accept NodePort traffic, and whether localhost NodePorts are possible at all.
import { parseCidr, cidrContains, cidrString, ipFamily, normalizeIP, type Cidr } from '../util/cidr.ts';
import type { ProxySettings } from './model.ts';

export interface NodePortAddresses {
  /** The IPv4 CIDRs in effect ("0.0.0.0/0" when none was given). */
  cidrs: Cidr[];
  /** A zero CIDR is present: NodePorts on every local address (`--dst-type LOCAL`). */
  matchAll: boolean;
  /** Some CIDR covers 127.0.0.1; without that, localhost NodePorts are turned off. */
  containsIPv4Loopback: boolean;
}

/** The node's primary IPv4 address: the first non-loopback IPv4 in settings.nodeIPs. */
export function primaryNodeIPv4(settings: Pick<ProxySettings, 'nodeIPs'>): string {
  return settings.nodeIPs.map(normalizeIP).find((ip) => ipFamily(ip) === 4 && !ip.startsWith('127.')) ?? '';
}

export function isLoopbackIPv4(ip: string): boolean {
  return ip.startsWith('127.');
}

export function nodePortAddresses(settings: Pick<ProxySettings, 'nodeIPs' | 'nodePortAddresses'>): NodePortAddresses {
  const texts: string[] = [];
  for (const raw of settings.nodePortAddresses) {
    const text = raw.trim();
    // "primary" is expanded by kube-proxy's config loading to the primary node IP.
    if (text === 'primary') {
      const ip = primaryNodeIPv4(settings);
      if (ip) texts.push(`${ip}/32`);
      continue;
    }
    // Other-family CIDRs belong to the other proxier of a dual-stack pair.
    if (!text.includes(':')) texts.push(text);
  }
  if (texts.length === 0) texts.push('0.0.0.0/0');
  const cidrs = texts.map((t) => parseCidr(t, true));
  return {
    cidrs,
    matchAll: cidrs.some((c) => c.prefix === 0),
    containsIPv4Loopback: cidrs.some((c) => isLoopbackIPv4(c.ip) || cidrContains(c, '127.0.0.1')),
  };
}

/** Upstream GetNodeIPs: node addresses inside any of the CIDRs, deduplicated, CIDR order first. */
export function nodePortIPs(npa: NodePortAddresses, nodeIPs: readonly string[]): string[] {
  const out: string[] = [];
  for (const cidr of npa.cidrs) {
    for (const raw of nodeIPs) {
      const ip = normalizeIP(raw);
      if (ip && ipFamily(ip) === 4 && cidrContains(cidr, ip) && !out.includes(ip)) out.push(ip);
    }
  }
  return out;
}

export function describeNodePortAddresses(npa: NodePortAddresses): string {
  return npa.cidrs.map(cidrString).join(',');
}
