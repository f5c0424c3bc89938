// EndpointSlices -> endpoints per service port, and the choice of which
// endpoints a node uses, as upstream kube-proxy does it
// (pkg/proxy/endpointslicecache.go, endpoint.go, topology.go). IPv4 family only.
import type { EndpointSlice } from '../k8s/objects.ts';
import { normalizeIP, ipFamily } from '../util/cidr.ts';
import type { CategorizedEndpoints, EndpointInfo, Protocol, ServicePortInfo } from './model.ts';
import { servicePortKey } from './model.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME, usesClusterEndpoints, usesLocalEndpoints } from './service-ports.ts';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/** Go's net.JoinHostPort. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function buildEndpoints(
  slices: EndpointSlice[],
  services: Map<string, ServicePortInfo>,
  nodeName: string,
): Map<string, EndpointInfo[]> {
  // (service port key + protocol) -> endpoint string -> endpoint; upstream's spToEndpointMap.
  const bySPN = new Map<string, { key: string; protocol: Protocol; eps: Map<string, EndpointInfo> }>();
  for (const slice of slices) {
    const labels = slice.metadata?.labels ?? {};
    const svcName = labels[LABEL_SERVICE_NAME];
    // Upstream endpointSliceCacheKeys rejects slices without the label; the informer drops the other two.
    if (!svcName || LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) continue;
    const namespace = slice.metadata?.namespace ?? 'default';
    for (const port of slice.ports ?? []) {
      if (port.name === undefined || port.name === null || !port.port) continue;
      const protocol = (port.protocol ?? 'TCP') as Protocol;
      const key = servicePortKey({ namespace, name: svcName, port: port.name, protocol });
      const id = `${key}/${protocol}`;
      let entry = bySPN.get(id);
      if (!entry) bySPN.set(id, (entry = { key, protocol, eps: new Map() }));
      for (const ep of slice.endpoints ?? []) {
        const raw = ep.addresses?.[0];
        if (!raw) continue;
        const ip = normalizeIP(raw);
        if (!ip || ipFamily(ip) !== 4) continue;
        const epNode = ep.nodeName ?? '';
        const isLocal = nodeName !== '' && epNode === nodeName;
        const info: EndpointInfo = {
          ip,
          port: port.port,
          endpoint: joinHostPort(ip, port.port),
          nodeName: epNode,
          zone: ep.zone ?? '',
          isLocal,
          ready: ep.conditions?.ready ?? true,
          serving: ep.conditions?.serving ?? true,
          terminating: ep.conditions?.terminating ?? false,
        };
        // Duplicates across slices collapse to one; a local copy wins (upstream addEndpoints).
        if (!entry.eps.has(info.endpoint) || isLocal) entry.eps.set(info.endpoint, info);
      }
    }
  }

  const out = new Map<string, EndpointInfo[]>();
  for (const { key, protocol, eps } of bySPN.values()) {
    if (eps.size === 0) continue;
    const svc = services.get(key);
    // Ports are matched by name *and* protocol; a same-named port of another protocol is not ours.
    if (svc && svc.protocol !== protocol) continue;
    if (!svc && out.has(key)) continue;
    // Upstream sorts by the endpoint string (so "10.1.1.11:11" < "10.1.1.1:11").
    out.set(key, [...eps.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)));
  }
  return out;
}

/**
 * Upstream CategorizeEndpoints without topology hints: ready endpoints, or if none, the
 * serving+terminating ones — decided separately for the Cluster and the Local set.
 */
export function categorize(endpoints: EndpointInfo[], svc: ServicePortInfo, nodeName = ''): CategorizedEndpoints {
  // "Local" means the endpoint's nodeName is this node; fall back to the flag computed at build time.
  const isLocal = (ep: EndpointInfo) => (nodeName ? ep.nodeName === nodeName : ep.isLocal);
  const result: CategorizedEndpoints = { clusterEndpoints: [], localEndpoints: [], allReachableEndpoints: [], hasAnyEndpoints: false };
  if (endpoints.length === 0) return result;
  const fallback = (ep: EndpointInfo) => ep.serving && ep.terminating;

  if (usesClusterEndpoints(svc)) {
    let cluster = endpoints.filter((ep) => ep.ready);
    if (cluster.length === 0) cluster = endpoints.filter(fallback);
    result.clusterEndpoints = cluster;
    result.hasAnyEndpoints = cluster.length > 0;
  }
  if (!usesLocalEndpoints(svc)) {
    result.allReachableEndpoints = result.clusterEndpoints;
    return result;
  }

  let localReady = false;
  let localFallback = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      result.hasAnyEndpoints = true;
      if (isLocal(ep)) localReady = true;
    } else if (fallback(ep)) {
      result.hasAnyEndpoints = true;
      if (isLocal(ep)) localFallback = true;
    }
  }
  if (localReady) result.localEndpoints = endpoints.filter((ep) => isLocal(ep) && ep.ready);
  else if (localFallback) result.localEndpoints = endpoints.filter((ep) => isLocal(ep) && fallback(ep));

  if (!usesClusterEndpoints(svc)) {
    result.allReachableEndpoints = result.localEndpoints;
  } else if (!localFallback || localReady) {
    // Local holds only ready endpoints, all of which are in the cluster set already.
    result.allReachableEndpoints = result.clusterEndpoints;
  } else {
    // Local may hold terminating endpoints the cluster set lacks: take the union, in endpoint order.
    const chosen = new Set([...result.clusterEndpoints, ...result.localEndpoints]);
    result.allReachableEndpoints = endpoints.filter((ep) => chosen.has(ep));
  }
  return result;
}
