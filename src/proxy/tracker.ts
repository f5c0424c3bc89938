// The change tracker: upstream's ServiceChangeTracker, EndpointsChangeTracker and
// EndpointSliceCache (pkg/proxy/servicechangetracker.go, endpointschangetracker.go,
// endpointslicecache.go) in one. Each informer event records, per object, what the
// proxy had of it at the last snapshot (previous) and what it is now (current); an
// event that brings an object back to its previous state drops the change, so an
// add followed by a delete, or an update that touches nothing the proxy reads, costs
// nothing at the next sync. snapshot() merges the pending changes: only the changed
// Services' ports and endpoints are re-derived (with the functions buildProxyState
// uses), and the state's maps are updated key by key, never rebuilt.
import { isDeepStrictEqual } from 'node:util';
import type { Service, EndpointSlice, ServiceCIDR } from '../k8s/objects.ts';
import { namespacedName } from '../k8s/objects.ts';
import type { EndpointInfo, ProxyState, ServicePortInfo } from './model.ts';
import { buildServicePorts } from './service-ports.ts';
import { buildEndpoints, endpointSliceInfo, type EndpointSliceInfo } from './endpoints.ts';
import { ipv4ServiceCIDRs, portsByKey } from './proxy-state.ts';

/** One Service's ports as the state had them at the last snapshot, and as they are now. */
interface ServiceChange {
  previous: ServicePortInfo[];
  current: ServicePortInfo[];
}

/** One EndpointSlice as the state had it at the last snapshot, and now (undefined: absent or ignored). */
interface SliceChange {
  previous: EndpointSliceInfo | undefined;
  current: EndpointSliceInfo | undefined;
}

/** What one Service ("ns/name") contributes to the state as of the last snapshot. */
interface ServiceRecord {
  ports: ServicePortInfo[];
  /** Its slices by slice key ("ns/slice-name"). */
  slices: Map<string, EndpointSliceInfo>;
  /** The keys it put into state.services and state.endpoints. */
  portKeys: string[];
  endpointKeys: string[];
}

export interface Snapshot {
  /**
   * The tracker's own state, updated in place by every snapshot(): read it until the
   * next snapshot(), never change it. Values are replaced per key, never mutated, so
   * a ServicePortInfo or endpoint list kept from an earlier sync stays as it was.
   */
  state: ProxyState;
  /**
   * Service port keys whose service port or endpoints differ from the previous
   * snapshot's (every key at the first snapshot). Backends rewrite only these on a
   * partial sync.
   */
  changed: Set<string>;
  /** The ServiceCIDRs differ from the previous snapshot's. */
  serviceCIDRsChanged: boolean;
  /** What this snapshot re-derived: Services whose ports and endpoints were merged, and the slices read for them. */
  work: { services: number; slices: number };
}

export class ChangeTracker {
  private readonly state: ProxyState = { services: new Map(), endpoints: new Map(), serviceCIDRs: [] };
  private readonly records = new Map<string, ServiceRecord>();
  /** Slice key -> the slice as the state has it (to find its Service again on update and delete). */
  private readonly appliedSlices = new Map<string, EndpointSliceInfo>();
  private readonly serviceChanges = new Map<string, ServiceChange>();
  private readonly sliceChanges = new Map<string, SliceChange>();
  private readonly serviceCIDRs = new Map<string, ServiceCIDR>();
  private serviceCIDRsPending = false;
  private events = { services: 0, endpoints: 0 };

  /** `nodeName` decides which endpoints are local. */
  constructor(private readonly nodeName: string) {}

  /** A Service was added, updated or deleted. Returns whether any change is pending. */
  serviceChanged(svc: Service, deleted = false): boolean {
    this.events.services++;
    const key = namespacedName(svc.metadata);
    const current = deleted ? [] : buildServicePorts(svc);
    const previous = this.serviceChanges.get(key)?.previous ?? this.records.get(key)?.ports ?? [];
    if (isDeepStrictEqual(previous, current)) this.serviceChanges.delete(key);
    else this.serviceChanges.set(key, { previous, current });
    return this.hasPendingChanges();
  }

  /** An EndpointSlice was added, updated or deleted. Returns whether any change is pending. */
  sliceChanged(slice: EndpointSlice, deleted = false): boolean {
    this.events.endpoints++;
    const key = namespacedName(slice.metadata);
    const info = deleted ? undefined : endpointSliceInfo(slice);
    // A slice kube-proxy ignores (no service-name label, another proxy's, headless) counts as absent.
    const current = info?.service === undefined ? undefined : info;
    const pending = this.sliceChanges.get(key);
    const previous = pending ? pending.previous : this.appliedSlices.get(key);
    if (isDeepStrictEqual(previous, current)) this.sliceChanges.delete(key);
    else this.sliceChanges.set(key, { previous, current });
    return this.hasPendingChanges();
  }

  /** A ServiceCIDR was added, updated or deleted. Returns whether any change is pending. */
  serviceCIDRChanged(cidr: ServiceCIDR, deleted = false): boolean {
    const key = cidr.metadata.name ?? '';
    if (deleted) this.serviceCIDRs.delete(key);
    else this.serviceCIDRs.set(key, cidr);
    this.serviceCIDRsPending = !isDeepStrictEqual(ipv4ServiceCIDRs(this.serviceCIDRs.values()), this.state.serviceCIDRs);
    return this.hasPendingChanges();
  }

  /** Informer events since the last snapshot, no-ops included (upstream's *_changes_total count these). */
  eventsSinceSnapshot(): { services: number; endpoints: number } {
    return { ...this.events };
  }

  /** Objects whose change is still pending after no-ops were dropped (upstream's *_changes_pending). */
  pendingChanges(): { services: number; slices: number; serviceCIDRs: boolean } {
    return { services: this.serviceChanges.size, slices: this.sliceChanges.size, serviceCIDRs: this.serviceCIDRsPending };
  }

  hasPendingChanges(): boolean {
    return this.serviceChanges.size > 0 || this.sliceChanges.size > 0 || this.serviceCIDRsPending;
  }

  /** Merges the pending changes into the state and says which service port keys they changed. */
  snapshot(): Snapshot {
    const dirty = this.applyPendingChanges();
    const changed = new Set<string>();
    let slicesRead = 0;
    for (const serviceKey of dirty) {
      const record = this.records.get(serviceKey);
      if (!record) continue;
      slicesRead += record.slices.size;
      this.merge(record, changed);
      if (record.portKeys.length === 0 && record.endpointKeys.length === 0 && record.slices.size === 0) this.records.delete(serviceKey);
    }
    const serviceCIDRsChanged = this.serviceCIDRsPending;
    if (serviceCIDRsChanged) this.state.serviceCIDRs = ipv4ServiceCIDRs(this.serviceCIDRs.values());
    this.serviceCIDRsPending = false;
    this.events = { services: 0, endpoints: 0 };
    return { state: this.state, changed, serviceCIDRsChanged, work: { services: dirty.size, slices: slicesRead } };
  }

  private record(serviceKey: string): ServiceRecord {
    let r = this.records.get(serviceKey);
    if (!r) this.records.set(serviceKey, (r = { ports: [], slices: new Map(), portKeys: [], endpointKeys: [] }));
    return r;
  }

  /** Moves every pending current into the records; returns the Services ("ns/name") touched. */
  private applyPendingChanges(): Set<string> {
    const dirty = new Set<string>();
    for (const [serviceKey, change] of this.serviceChanges) {
      this.record(serviceKey).ports = change.current;
      dirty.add(serviceKey);
    }
    for (const [sliceKey, { previous, current }] of this.sliceChanges) {
      // A slice whose service-name label changed leaves one Service and joins another.
      if (previous?.service !== undefined) {
        this.records.get(previous.service)?.slices.delete(sliceKey);
        dirty.add(previous.service);
      }
      if (current?.service !== undefined) {
        this.record(current.service).slices.set(sliceKey, current);
        this.appliedSlices.set(sliceKey, current);
        dirty.add(current.service);
      } else {
        this.appliedSlices.delete(sliceKey);
      }
    }
    this.serviceChanges.clear();
    this.sliceChanges.clear();
    return dirty;
  }

  /** Re-derives one Service's share of the state and writes the keys that differ. */
  private merge(record: ServiceRecord, changed: Set<string>): void {
    const ports = portsByKey(record.ports);
    const endpoints = buildEndpoints([...record.slices.values()], ports, this.nodeName);
    const { services, endpoints: stateEndpoints } = this.state;
    // The same question the rebuild-and-compare tracker asked, for this Service's keys only.
    for (const key of new Set([...record.portKeys, ...ports.keys()])) {
      const same =
        isDeepStrictEqual(services.get(key), ports.get(key)) &&
        isDeepStrictEqual(stateEndpoints.get(key) ?? [], endpoints.get(key) ?? []);
      if (!same) changed.add(key);
    }
    replaceKeys(services, record.portKeys, ports);
    replaceKeys(stateEndpoints, record.endpointKeys, endpoints);
    record.portKeys = [...ports.keys()];
    record.endpointKeys = [...endpoints.keys()];
  }
}

/** Copy-on-write per key: `oldKeys` leave `target`, `next`'s entries replace theirs unless equal. */
function replaceKeys<V extends ServicePortInfo | EndpointInfo[]>(target: Map<string, V>, oldKeys: string[], next: Map<string, V>): void {
  for (const key of oldKeys) if (!next.has(key)) target.delete(key);
  for (const [key, value] of next) if (!isDeepStrictEqual(target.get(key), value)) target.set(key, value);
}
