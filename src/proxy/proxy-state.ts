// Services + EndpointSlices + ServiceCIDRs -> ProxyState, one Service at a time:
// a Service's ports come from buildServicePorts (that Service alone) and its
// endpoints from buildEndpoints (its own slices and ports). buildProxyState runs
// both over every Service (`proxy render`, tests, benchmarks); the change tracker
// runs them for the Services that changed since the last sync. Same functions,
// same inputs: a tracker's state always equals buildProxyState of its objects.
import type { Service, EndpointSlice, ServiceCIDR } from '../k8s/objects.ts';
import { namespacedName } from '../k8s/objects.ts';
import type { ProxySettings, ProxyState, ServicePortInfo } from './model.ts';
import { buildEndpoints, endpointSliceInfo, type EndpointSliceInfo } from './endpoints.ts';
import { buildServicePorts } from './service-ports.ts';

/** Service ports as a map by key; a repeated key keeps its first place and its last value (Map.set). */
export function portsByKey(ports: readonly ServicePortInfo[]): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  for (const port of ports) out.set(port.key, port);
  return out;
}

/** IPv4 family only, as upstream's per-family proxier keeps them (nftables OnServiceCIDRsChanged). */
export function ipv4ServiceCIDRs(cidrs: Iterable<ServiceCIDR>): string[] {
  return [...cidrs].flatMap((c) => c.spec?.cidrs ?? []).filter((c) => !c.includes(':'));
}

/** Services + EndpointSlices + ServiceCIDRs -> ProxyState for one node, from scratch. */
export function buildProxyState(
  objects: { services: Service[]; slices: EndpointSlice[]; serviceCIDRs?: ServiceCIDR[] },
  settings: Pick<ProxySettings, 'nodeName'>,
): ProxyState {
  const byService = new Map<string, { ports: ServicePortInfo[]; slices: EndpointSliceInfo[] }>();
  const entry = (key: string) => {
    let e = byService.get(key);
    if (!e) byService.set(key, (e = { ports: [], slices: [] }));
    return e;
  };
  for (const svc of objects.services) entry(namespacedName(svc.metadata)).ports.push(...buildServicePorts(svc));
  for (const slice of objects.slices) {
    const info = endpointSliceInfo(slice);
    if (info.service !== undefined) entry(info.service).slices.push(info);
  }
  const state: ProxyState = { services: new Map(), endpoints: new Map(), serviceCIDRs: ipv4ServiceCIDRs(objects.serviceCIDRs ?? []) };
  for (const { ports, slices } of byService.values()) {
    const byKey = portsByKey(ports);
    for (const [key, port] of byKey) state.services.set(key, port);
    for (const [key, eps] of buildEndpoints(slices, byKey, settings.nodeName)) state.endpoints.set(key, eps);
  }
  return state;
}
