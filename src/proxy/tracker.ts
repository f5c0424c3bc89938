// The change tracker (upstream's ServiceChangeTracker + EndpointsChangeTracker
// in one): informer events mark a Service "dirty"; at sync time the dirty
// Services' ports and endpoints are compared with the last synced state and
// no-op changes are dropped, leaving the service port keys that really changed.
import type { Service, EndpointSlice, ServiceCIDR } from '../k8s/objects.ts';
import { namespacedName } from '../k8s/objects.ts';
import type { ProxySettings, ProxyState } from './model.ts';
import { buildProxyState } from './proxy-state.ts';
import { LABEL_SERVICE_NAME } from '../k8s/labels.ts';

export class ChangeTracker {
  private services = new Map<string, Service>();
  private slices = new Map<string, EndpointSlice>();
  private serviceCIDRs = new Map<string, ServiceCIDR>();
  private dirty = new Set<string>();
  private pendingServiceChanges = 0;
  private pendingEndpointChanges = 0;

  serviceChanged(svc: Service, deleted = false): void {
    const key = namespacedName(svc.metadata);
    if (deleted) this.services.delete(key);
    else this.services.set(key, svc);
    this.dirty.add(key);
    this.pendingServiceChanges++;
  }

  sliceChanged(slice: EndpointSlice, deleted = false): void {
    const key = namespacedName(slice.metadata);
    if (deleted) this.slices.delete(key);
    else this.slices.set(key, slice);
    const svcName = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (svcName) this.dirty.add(`${slice.metadata?.namespace ?? 'default'}/${svcName}`);
    this.pendingEndpointChanges++;
  }

  serviceCIDRChanged(cidr: ServiceCIDR, deleted = false): void {
    const key = cidr.metadata.name ?? '';
    if (deleted) this.serviceCIDRs.delete(key);
    else this.serviceCIDRs.set(key, cidr);
    this.dirty.add('*servicecidrs*');
  }

  pending(): { services: number; endpoints: number } {
    return { services: this.pendingServiceChanges, endpoints: this.pendingEndpointChanges };
  }

  /**
   * The state to render now and the service port keys whose rules must be
   * rewritten relative to `previous` (undefined previous = everything).
   */
  snapshot(settings: Pick<ProxySettings, 'nodeName' | 'nodeIPs'>, previous?: ProxyState): { state: ProxyState; changed: Set<string> } {
    const state = buildProxyState(
      { services: [...this.services.values()], slices: [...this.slices.values()], serviceCIDRs: [...this.serviceCIDRs.values()] },
      settings,
    );
    const changed = new Set<string>();
    if (previous) {
      const touched = (key: string) => {
        const nsName = key.split(':')[0];
        return this.dirty.has(nsName);
      };
      for (const key of new Set([...previous.services.keys(), ...state.services.keys()])) {
        if (!touched(key)) continue;
        const same =
          JSON.stringify(previous.services.get(key)) === JSON.stringify(state.services.get(key)) &&
          JSON.stringify(previous.endpoints.get(key) ?? []) === JSON.stringify(state.endpoints.get(key) ?? []);
        if (!same) changed.add(key);
      }
    } else {
      for (const key of state.services.keys()) changed.add(key);
    }
    this.dirty.clear();
    this.pendingServiceChanges = 0;
    this.pendingEndpointChanges = 0;
    return { state, changed };
  }
}
