// THE PREVIOUS ALGORITHM, kept only as the tracker benchmark's baseline: the change
// tracker as it was before issue 11 (src/proxy/tracker.ts at db87559). Events only
// mark a Service dirty; every snapshot rebuilds the whole state with buildProxyState
// over every Service and EndpointSlice, then compares the dirty Services' keys with
// the previous state by JSON.stringify. Not used by the proxy.
import type { EndpointSlice, Service } from '../src/k8s/objects.ts';
import { namespacedName } from '../src/k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../src/k8s/labels.ts';
import type { ProxySettings, ProxyState } from '../src/proxy/model.ts';
import { buildProxyState } from '../src/proxy/proxy-state.ts';

export class PreviousRebuildingTracker {
  private services = new Map<string, Service>();
  private slices = new Map<string, EndpointSlice>();
  private dirty = new Set<string>();

  serviceChanged(svc: Service, deleted = false): void {
    const key = namespacedName(svc.metadata);
    if (deleted) this.services.delete(key);
    else this.services.set(key, svc);
    this.dirty.add(key);
  }

  sliceChanged(slice: EndpointSlice, deleted = false): void {
    const key = namespacedName(slice.metadata);
    if (deleted) this.slices.delete(key);
    else this.slices.set(key, slice);
    const svcName = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (svcName) this.dirty.add(`${slice.metadata?.namespace ?? 'default'}/${svcName}`);
  }

  /** The whole state, rebuilt, and the dirty keys whose JSON differs from `previous` (all without one). */
  snapshot(settings: Pick<ProxySettings, 'nodeName'>, previous?: ProxyState): { state: ProxyState; changed: Set<string> } {
    const state = buildProxyState({ services: [...this.services.values()], slices: [...this.slices.values()] }, settings);
    const changed = new Set<string>();
    if (previous) {
      const touched = (key: string) => this.dirty.has(key.split(':')[0]);
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
    return { state, changed };
  }
}
