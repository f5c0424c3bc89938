// The lab's resolved addressing: every default filled in, every address
// computed once, so the driver, CNI, control plane, proxy and scenarios all
// read the same numbers. Pure; assumes validate.ts's cluster checks passed.
import { cidrOverlap, cidrSize, cidrString, normalizeIP, nthIP, parseCidr, subnet, type Cidr } from '../util/cidr.ts';
import type { LabSpec } from './schema.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';

export interface LabLayout {
  name: string;
  nodeNetwork: string;
  /** First host of the node network (192.168.49.1): the node bridge's address. */
  gateway: string;
  nodes: { name: string; ip: string; podCIDR: string }[];
  external: { name: 'external'; ip: string };
  podCIDR: string;
  serviceCIDR: string;
  /** First address of the service CIDR: the `kubernetes` Service (10.96.0.1). */
  apiServerIP: string;
  /** Tenth address of the service CIDR: kube-dns (10.96.0.10), as kubeadm picks it. */
  dnsIP: string;
  nodePortRange: { base: number; size: number };
  proxyMode: ProxyMode;
  clusterDomain: 'cluster.local';
}

/** Each node's slice of the pod CIDR, as kube-controller-manager's range allocator hands them out. */
export const NODE_POD_PREFIX = 24;

/**
 * Parses --service-node-port-range text the way upstream's net.ParsePortRange
 * does: "30000-32767", "30000+2768" or a single port. Throws with the problem.
 */
export function parsePortRange(text: string): { base: number; size: number } {
  const m = text.trim().match(/^(\d+)(?:([-+])(\d+))?$/);
  if (!m) throw new Error(`"${text}" is not a port range (write it like 30000-32767)`);
  const base = Number(m[1]);
  const other = m[3] === undefined ? base : Number(m[3]);
  const max = m[2] === '+' ? base + other - 1 : other;
  if (base < 1 || max > 65535) throw new Error(`port range "${text}" must lie within 1-65535`);
  if (max < base) throw new Error(`port range "${text}" ends before it starts`);
  return { base, size: max - base + 1 };
}

/** Nth host address counting from the network address (1 = first host). */
function host(c: Cidr, n: number | bigint): string {
  return nthIP(c, n);
}

/** The default IP of the i-th node: the network's (i+2)-th address, after the gateway. */
export function defaultNodeIP(nodeNetwork: string, i: number): string {
  return host(parseCidr(nodeNetwork), i + 2);
}

/** The external client's default: the last host (192.168.49.254 in a /24). */
export function defaultExternalIP(nodeNetwork: string): string {
  const c = parseCidr(nodeNetwork);
  return host(c, cidrSize(c) - 2n);
}

/**
 * The first `count` /24 slices of the pod CIDR that do not overlap the service
 * CIDR: kube-controller-manager marks the service range as taken inside the
 * cluster CIDR (filterOutServiceRange), so no node is given a slice of it.
 * `taken` are ranges already assigned by hand (cluster.nodes[].podCIDR).
 */
export function nodePodSlices(podCIDR: string, serviceCIDR: string, count: number, taken: Cidr[] = []): Cidr[] {
  const pods = parseCidr(podCIDR);
  const services = parseCidr(serviceCIDR);
  const out: Cidr[] = [];
  if (pods.prefix > NODE_POD_PREFIX) return out;
  const total = 1 << (NODE_POD_PREFIX - pods.prefix);
  for (let i = 0; i < total && out.length < count; i++) {
    const slice = subnet(pods, NODE_POD_PREFIX, i);
    if (!cidrOverlap(slice, services) && !taken.some((t) => cidrOverlap(slice, t))) out.push(slice);
  }
  return out;
}

/**
 * Each node's pod range: its own cluster.nodes[].podCIDR when set (assigned by
 * hand, or by a CNI's IPAM that knows nothing of the service range), else the
 * next slice the controller-manager way. Undefined where the pod CIDR runs out.
 */
export function nodePodCIDRs(cluster: LabSpec['cluster']): (Cidr | undefined)[] {
  const explicit = cluster.nodes.map((n) => (n.podCIDR ? parseCidr(n.podCIDR) : undefined));
  const taken = explicit.filter((c): c is Cidr => c !== undefined);
  const auto = nodePodSlices(cluster.podCIDR, cluster.serviceCIDR, explicit.length - taken.length, taken);
  let next = 0;
  return explicit.map((c) => c ?? auto[next++]);
}

export function resolveLayout(spec: LabSpec, mode: ProxyMode = spec.proxy.mode): LabLayout {
  const { cluster } = spec;
  const services = parseCidr(cluster.serviceCIDR);
  const slices = nodePodCIDRs(cluster);
  return {
    name: spec.metadata.name,
    nodeNetwork: cidrString(parseCidr(cluster.nodeNetwork)),
    gateway: host(parseCidr(cluster.nodeNetwork), 1),
    nodes: cluster.nodes.map((n, i) => ({
      name: n.name,
      ip: n.ip ? normalizeIP(n.ip) : defaultNodeIP(cluster.nodeNetwork, i),
      podCIDR: cidrString(slices[i]!),
    })),
    external: { name: 'external', ip: cluster.externalClient.ip ? normalizeIP(cluster.externalClient.ip) : defaultExternalIP(cluster.nodeNetwork) },
    podCIDR: cidrString(parseCidr(cluster.podCIDR)),
    serviceCIDR: cidrString(services),
    apiServerIP: nthIP(services, 1),
    dnsIP: nthIP(services, 10),
    nodePortRange: parsePortRange(cluster.nodePortRange),
    proxyMode: mode,
    clusterDomain: 'cluster.local',
  };
}
