// Semantic checks after the schema: the cluster's networks fit together, and
// the objects fit the cluster (known nodes, ClusterIPs and NodePorts in range).
// Errors throw LabFileError at the offending line; soft problems are returned
// as warnings. Nothing here creates anything.
import type { Deployment, EndpointSlice, KubeObject, Pod, Service } from '../k8s/objects.ts';
import { cidrContains, cidrOverlap, cidrSize, cidrString, ipToBig, normalizeIP, nthIP, parseCidr, type Cidr } from '../util/cidr.ts';
import { defaultExternalIP, defaultNodeIP, NODE_POD_PREFIX, nodePodCIDRs, parsePortRange, type LabLayout } from './layout.ts';
import { invalidValue } from '../k8s/names.ts';
import type { LabSpec } from './schema.ts';
import type { PlacedObject } from './objects.ts';
import type { Path, YamlSource } from './source.ts';


// apiserver: the service CIDR may hold at most 2^20 addresses.
const MAX_SERVICE_CIDR_BITS = 20;

function v4(c: Cidr, src: YamlSource, path: Path): void {
  if (c.family !== 4) throw src.error(path, `${cidrString(c)} is IPv6; svclab labs are IPv4-only for now`);
}

/** Networks, nodes and ranges. Returns warnings. */
export function checkCluster(spec: LabSpec, src: YamlSource): string[] {
  const warnings: string[] = [];
  const c = spec.cluster;
  const at = (...p: (string | number)[]) => ['cluster', ...p];
  const nodeNet = parseCidr(c.nodeNetwork);
  const pods = parseCidr(c.podCIDR);
  const services = parseCidr(c.serviceCIDR);
  v4(nodeNet, src, at('nodeNetwork'));
  v4(pods, src, at('podCIDR'));
  v4(services, src, at('serviceCIDR'));

  for (const [other, what, key] of [[pods, 'pod CIDR', 'podCIDR'], [services, 'service CIDR', 'serviceCIDR']] as const) {
    const span = cidrOverlap(nodeNet, other);
    if (span) {
      // Point at the range the user wrote: a defaulted one is not in the file.
      const where = src.has(at('nodeNetwork')) || !src.has(at(key)) ? at('nodeNetwork') : at(key);
      throw src.error(where,
        `the node network ${cidrString(nodeNet)} overlaps the ${what} ${cidrString(other)} (cluster.${key}) on ${cidrString(span)}; node addresses and ${what === 'pod CIDR' ? 'pod' : 'service'} addresses must not collide`);
    }
  }
  const podSvc = cidrOverlap(pods, services);
  const handInside = checkNodePodCIDRs(spec, { pods, services }, src);
  if (podSvc) {
    warnings.push(src.warning(at('podCIDR'),
      `pod CIDR ${cidrString(pods)} overlaps service CIDR ${cidrString(services)} on ${cidrString(podSvc)}: ` +
      (handInside.length
        ? `Kubernetes accepts this, and ${handInside.join(', ')} ${handInside.length === 1 ? 'has a pod range' : 'have pod ranges'} inside the overlap, so pod addresses there can also be ClusterIPs; keep the ranges apart`
        : 'Kubernetes accepts this (no node gets a pod slice from the overlap), but a pod address there would be shadowed by service rules; keep the ranges apart')));
  }

  if (32 - services.prefix > MAX_SERVICE_CIDR_BITS) {
    throw src.error(at('serviceCIDR'), `specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= ${32 - MAX_SERVICE_CIDR_BITS}`);
  }
  if (cidrSize(services) < 16n) {
    throw src.error(at('serviceCIDR'), `service CIDR ${cidrString(services)} is too small: it needs the 10th address for cluster DNS (use /28 or larger)`);
  }

  if (pods.prefix > NODE_POD_PREFIX) {
    throw src.error(at('podCIDR'), `pod CIDR ${cidrString(pods)} is too small: each node needs a /${NODE_POD_PREFIX} slice of it`);
  }
  const ranges = nodePodCIDRs(c);
  if (ranges.some((r) => r === undefined)) {
    const wanted = c.nodes.filter((n) => !n.podCIDR).length;
    const slices = ranges.filter((r, i) => r && !c.nodes[i].podCIDR).length;
    const hand = c.nodes.length - wanted;
    throw src.error(at('podCIDR'),
      `pod CIDR ${cidrString(pods)} is too small for ${wanted === c.nodes.length ? '' : 'the other '}${wanted} nodes: it has room for ${slices} /${NODE_POD_PREFIX} slice${slices === 1 ? '' : 's'} (one per node${podSvc ? ', outside the service CIDR' : ''}${hand ? `, apart from the ${hand} given by hand` : ''})`);
  }

  checkNodes(spec, nodeNet, src);

  try {
    parsePortRange(c.nodePortRange);
  } catch (e) {
    throw src.error(at('nodePortRange'), (e as Error).message);
  }

  const modes = spec.proxy.modes ?? [];
  const dup = modes.findIndex((m, i) => modes.indexOf(m) !== i);
  if (dup >= 0) throw src.error(['proxy', 'modes', dup], `proxy mode "${modes[dup]}" is listed twice`);
  if (modes.length && !modes.includes(spec.proxy.mode)) {
    warnings.push(src.warning(['proxy', 'mode'], `proxy mode "${spec.proxy.mode}" is not among proxy.modes (${modes.join(', ')})`));
  }
  (spec.proxy.config.nodePortAddresses ?? []).forEach((a, i) => {
    if (a === 'primary') return;
    try {
      parseCidr(a);
    } catch (e) {
      throw src.error(['proxy', 'config', 'nodePortAddresses', i], `${(e as Error).message}; nodePortAddresses takes CIDRs or "primary"`);
    }
  });
  return warnings;
}

// Smallest node pod range: the bridge gateway, a few pods, network and broadcast.
const MAX_NODE_POD_PREFIX = 28;

/**
 * Hand-assigned node pod ranges (cluster.nodes[].podCIDR): inside the pod CIDR
 * (kube-proxy's --cluster-cidr; so apart from the node network too) and apart
 * from each other. Inside the service CIDR is allowed, as upstream allows it — that is
 * how a ClusterIP and a pod IP come to collide — and named in the warning.
 * Returns "node-03 (10.0.3.0/24)" for each node whose range is in the service CIDR.
 */
function checkNodePodCIDRs(spec: LabSpec, nets: { pods: Cidr; services: Cidr }, src: YamlSource): string[] {
  const inside: string[] = [];
  const seen: { name: string; i: number; cidr: Cidr }[] = [];
  spec.cluster.nodes.forEach((n, i) => {
    if (!n.podCIDR) return;
    const path = ['cluster', 'nodes', i, 'podCIDR'];
    const c = parseCidr(n.podCIDR);
    v4(c, src, path);
    if (c.prefix > MAX_NODE_POD_PREFIX) throw src.error(path, `node pod CIDR ${cidrString(c)} is too small: use /${MAX_NODE_POD_PREFIX} or larger`);
    if (!cidrContains(nets.pods, c.ip) || c.prefix < nets.pods.prefix) {
      throw src.error(path, `node pod CIDR ${cidrString(c)} is outside the pod CIDR ${cidrString(nets.pods)} (cluster.podCIDR, kube-proxy's --cluster-cidr)`);
    }
    const other = seen.find((o) => cidrOverlap(o.cidr, c));
    if (other) throw src.error(path, `node pod CIDR ${cidrString(c)} overlaps node "${other.name}"'s ${cidrString(other.cidr)} (cluster.nodes[${other.i}].podCIDR)`);
    seen.push({ name: n.name, i, cidr: c });
    // Inside the pod CIDR, so the cluster-level overlap warning names it.
    if (cidrOverlap(c, nets.services)) inside.push(`${n.name} (${cidrString(c)})`);
  });
  return inside;
}

// Node names and addresses: unique, inside the node network, not its network,
// broadcast or gateway address; the external client likewise.
function checkNodes(spec: LabSpec, net: Cidr, src: YamlSource): void {
  const c = spec.cluster;
  const hosts = cidrSize(net) - 2n; // without network and broadcast addresses
  if (hosts < BigInt(c.nodes.length + 2)) {
    throw src.error(['cluster', 'nodeNetwork'],
      `the node network ${cidrString(net)} is too small: ${c.nodes.length} nodes, the gateway and the external client need ${c.nodes.length + 2} addresses`);
  }
  const gateway = nthIP(net, 1);
  const broadcast = ipToBig(net.ip) + cidrSize(net) - 1n;
  const byName = new Map<string, number>();
  const byIP = new Map<string, string>(); // ip -> where ("cluster.nodes[0]")
  const usable = (ip: string, path: (string | number)[], what: string) => {
    if (!cidrContains(net, ip)) throw src.error(path, `${what} ${ip} is outside the node network ${cidrString(net)}`);
    if (ip === net.ip) throw src.error(path, `${what} ${ip} is the node network's network address`);
    if (ipToBig(ip) === broadcast) throw src.error(path, `${what} ${ip} is the node network's broadcast address`);
    if (ip === gateway) throw src.error(path, `${what} ${ip} is the node network's gateway (its first address)`);
  };
  c.nodes.forEach((n, i) => {
    const seen = byName.get(n.name);
    if (seen !== undefined) throw src.error(['cluster', 'nodes', i, 'name'], `duplicate node name "${n.name}" (also cluster.nodes[${seen}])`);
    byName.set(n.name, i);
    const ip = n.ip ? normalizeIP(n.ip) : defaultNodeIP(c.nodeNetwork, i);
    const path = n.ip ? ['cluster', 'nodes', i, 'ip'] : ['cluster', 'nodes', i];
    const what = n.ip ? 'node IP' : `the default IP of node "${n.name}"`;
    usable(ip, path, what);
    const other = byIP.get(ip);
    if (other) throw src.error(path, `duplicate node IP: ${what} ${ip} is also ${other}'s; give each node its own ip`);
    byIP.set(ip, `cluster.nodes[${i}]`);
  });
  const ext = c.externalClient.ip ? normalizeIP(c.externalClient.ip) : defaultExternalIP(c.nodeNetwork);
  const extPath = c.externalClient.ip ? ['cluster', 'externalClient', 'ip'] : ['cluster', 'externalClient'];
  usable(ext, extPath, 'the external client IP');
  const taken = byIP.get(ext);
  if (taken) throw src.error(extPath, `the external client IP ${ext} is also ${taken}'s; set cluster.externalClient.ip to a free address`);
}

const kindKey = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;

/** Two manifests for the same object: the second would silently replace the first. */
export function checkDuplicates(placed: PlacedObject[], label: (i: number) => string): void {
  const seen = new Map<string, number>();
  placed.forEach((p, i) => {
    const key = kindKey(p.object);
    const first = seen.get(key);
    if (first !== undefined) throw p.source.error(['metadata', 'name'], `duplicate ${key} (also ${label(first)})`);
    seen.set(key, i);
  });
}

/** Each object against the cluster: node names, ClusterIPs and NodePorts in their ranges. */
export function checkObjectsAgainstCluster(placed: PlacedObject[], layout: LabLayout): void {
  const nodes = layout.nodes.map((n) => n.name);
  const services = parseCidr(layout.serviceCIDR);
  const { base, size } = layout.nodePortRange;
  const range = `${base}-${base + size - 1}`;
  const nodePorts = new Map<number, string>();
  const knownNode = (name: string | undefined, src: YamlSource, path: Path) => {
    if (name !== undefined && !nodes.includes(name)) {
      throw src.error(path, `node "${name}" is not in this lab (nodes: ${nodes.join(', ')})`);
    }
  };
  for (const { object: o, source: src } of placed) {
    // kubernetes-types' optional `kind` does not narrow the union, hence the casts.
    if (o.kind === 'Pod') knownNode((o as Pod).spec?.nodeName, src, ['spec', 'nodeName']);
    if (o.kind === 'Deployment') knownNode((o as Deployment).spec?.template.spec?.nodeName, src, ['spec', 'template', 'spec', 'nodeName']);
    if (o.kind === 'EndpointSlice') (o as EndpointSlice).endpoints.forEach((ep, i) => knownNode(ep.nodeName, src, ['endpoints', i, 'nodeName']));
    if (o.kind !== 'Service') continue;
    const svc = o as Service;
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') {
      // The apiserver's allocator words (ipallocator: ErrNotInRange, ErrAllocated).
      const fail = (why: string) => src.error(['spec', 'clusterIP'], invalidValue(ip, `failed to allocate IP ${ip}: ${why}`));
      if (!cidrContains(services, ip)) throw fail(`the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${layout.serviceCIDR}`);
      const n = normalizeIP(ip);
      if (n === layout.apiServerIP || n === layout.dnsIP) throw fail('provided IP is already allocated');
    }
    (svc.spec?.ports ?? []).forEach((p, i) => {
      if (p.nodePort === undefined) return;
      const path = ['spec', 'ports', i, 'nodePort'];
      if (p.nodePort < base || p.nodePort >= base + size) {
        throw src.error(path, invalidValue(p.nodePort, `provided port is not in the valid range. The range of valid ports is ${range}`));
      }
      // The same Service applied again (a scenario step) may keep its NodePort.
      const owner = `Service ${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
      const other = nodePorts.get(p.nodePort);
      if (other && other !== owner) throw src.error(path, invalidValue(p.nodePort, `provided port is already allocated (by ${other})`));
      nodePorts.set(p.nodePort, owner);
    });
  }
}

// Namespaces that exist in every cluster.
const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Objects in a namespace nobody creates: the apiserver would answer `namespaces "x" not found`. */
export function checkNamespaces(placed: PlacedObject[]): string[] {
  const declared = new Set([...BUILTIN_NAMESPACES, ...placed.filter((p) => p.object.kind === 'Namespace').map((p) => p.object.metadata?.name)]);
  return placed
    .filter((p) => p.object.kind !== 'Namespace' && !declared.has(p.object.metadata?.namespace ?? 'default'))
    .map((p) => p.source.warning(['metadata', 'namespace'],
      `namespace "${p.object.metadata?.namespace}" is not created by this lab (add a v1 Namespace manifest), so the apiserver would answer: namespaces "${p.object.metadata?.namespace}" not found`));
}
