// EndpointSlices -> endpoints per service port, as upstream kube-proxy does it
// (pkg/proxy/endpointslicecache.go, endpoint.go). IPv4 family only. Which of
// these endpoints a node uses is topology.ts's job.
import type { EndpointSlice } from '../k8s/objects.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME } from '../k8s/labels.ts';
import { normalizeIP, ipFamily } from '../util/cidr.ts';
import { servicePortKey, type EndpointInfo, type Protocol, type ServicePortInfo } from './model.ts';

/** Go's net.JoinHostPort. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * What the proxy reads from one EndpointSlice (upstream's endpointSliceInfo): two
 * slices with equal infos give equal endpoints, which is how the change tracker
 * tells a no-op slice update from a real one.
 */
export interface EndpointSliceInfo {
  /** The slice's name: duplicates across a service's slices are resolved in name order. */
  name: string;
  /** "namespace/service" from the service-name label; undefined if kube-proxy ignores the slice. */
  service: string | undefined;
  /** Ports with a name (possibly "") and a number, as the slice lists them. */
  ports: Array<{ name: string; port: number; protocol: Protocol }>;
  /** Endpoints with an IPv4 first address (normalised). */
  endpoints: Array<{ ip: string; nodeName: string; zone: string; ready: boolean; serving: boolean; terminating: boolean }>;
}

/** Upstream endpointSliceCacheKeys rejects slices without the label; the informer drops the other two. */
function sliceService(slice: EndpointSlice): string | undefined {
  const labels = slice.metadata?.labels ?? {};
  const svcName = labels[LABEL_SERVICE_NAME];
  if (!svcName || LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) return undefined;
  return `${slice.metadata?.namespace ?? 'default'}/${svcName}`;
}

export function endpointSliceInfo(slice: EndpointSlice): EndpointSliceInfo {
  const info: EndpointSliceInfo = { name: slice.metadata?.name ?? '', service: sliceService(slice), ports: [], endpoints: [] };
  if (info.service === undefined) return info;
  for (const port of slice.ports ?? []) {
    if (port.name === undefined || port.name === null || !port.port) continue;
    info.ports.push({ name: port.name, port: port.port, protocol: (port.protocol ?? 'TCP') as Protocol });
  }
  for (const ep of slice.endpoints ?? []) {
    const raw = ep.addresses?.[0];
    if (!raw) continue;
    const ip = normalizeIP(raw);
    if (!ip || ipFamily(ip) !== 4) continue;
    info.endpoints.push({
      ip,
      nodeName: ep.nodeName ?? '',
      zone: ep.zone ?? '',
      ready: ep.conditions?.ready ?? true,
      serving: ep.conditions?.serving ?? true,
      terminating: ep.conditions?.terminating ?? false,
    });
  }
  return info;
}

const byName = (a: EndpointSliceInfo, b: EndpointSliceInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Slices -> endpoints per service port key. `services` decides which protocol a key's
 * endpoints come from; keys without a service port keep their endpoints too.
 */
export function buildEndpoints(
  slices: readonly EndpointSliceInfo[],
  services: ReadonlyMap<string, ServicePortInfo>,
  nodeName: string,
): Map<string, EndpointInfo[]> {
  // (service port key + protocol) -> endpoint string -> endpoint; upstream's spToEndpointMap.
  const bySPN = new Map<string, { key: string; protocol: Protocol; eps: Map<string, EndpointInfo> }>();
  // Upstream walks a Go map of slices (no order); name order makes every caller agree.
  for (const slice of [...slices].sort(byName)) {
    if (slice.service === undefined) continue;
    const [namespace, svcName] = slice.service.split('/');
    for (const port of slice.ports) {
      const { protocol } = port;
      const key = servicePortKey({ namespace, name: svcName, port: port.name, protocol });
      const id = `${key}/${protocol}`;
      let entry = bySPN.get(id);
      if (!entry) bySPN.set(id, (entry = { key, protocol, eps: new Map() }));
      for (const ep of slice.endpoints) {
        const isLocal = nodeName !== '' && ep.nodeName === nodeName;
        const info: EndpointInfo = {
          ip: ep.ip,
          port: port.port,
          endpoint: joinHostPort(ep.ip, port.port),
          nodeName: ep.nodeName,
          zone: ep.zone,
          isLocal,
          ready: ep.ready,
          serving: ep.serving,
          terminating: ep.terminating,
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
