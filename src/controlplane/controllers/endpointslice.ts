// The EndpointSlice controller (pkg/controller/endpointslice, reconciler.go):
// per Service with a selector, slices named <service>-<5 chars>, labelled
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by, owned
// by the Service, at most 100 endpoints each. Endpoints stay in the slice that
// already holds them; new ones fill slices with room before a new slice is
// made; a Service with no endpoints keeps one empty placeholder slice.
import { LABEL_HEADLESS, LABEL_SERVICE_NAME } from '../../k8s/labels.ts';
import type { K8sNode, Pod, Service as ApiService } from '../../k8s/objects.ts';
import type { EndpointSlice as ApiSlice } from 'kubernetes-types/discovery/v1.js';
import { rfc3339, type KObj, type Mutable } from '../store.ts';
import { mapSelectorMatcher } from '../selectors.ts';
import { desiredEndpointGroups, portsKey, type SliceEndpoint, type SlicePort } from './endpoint-set.ts';
import { keyFor, onKinds, QueueController, splitKey } from './queue.ts';

type Service = Mutable<ApiService>;
type EndpointSlice = Mutable<ApiSlice>;

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const MAX_ENDPOINTS_PER_SLICE = 100;

const addrOf = (e: SliceEndpoint) => e.addresses[0];

/** Labels upstream puts on a managed slice: the Service's own, then its bookkeeping labels. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k !== LABEL_SERVICE_NAME && k !== MANAGED_BY_LABEL) labels[k] = v;
  }
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata!.name!;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  return labels;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/**
 * Pure reconcile of a Service's managed slices against the desired endpoint
 * groups. `now` stamps the trigger-time annotation on written slices.
 */
export function planSlices(svc: Service, existing: EndpointSlice[], pods: Pod[], nodes: K8sNode[], now: string): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const addressType = svc.spec?.ipFamilies?.[0] === 'IPv6' ? 'IPv6' : 'IPv4';
  const labels = sliceLabels(svc);
  const groups = desiredEndpointGroups(svc, pods, nodes);
  const bySet = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (s.addressType !== addressType) {
      plan.delete.push(s);
      continue;
    }
    const k = portsKey(s.ports ?? []);
    bySet.set(k, [...(bySet.get(k) ?? []), s]);
  }
  const fresh = (ports: SlicePort[], endpoints: SliceEndpoint[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata!.name!.slice(0, 57)}-`,
      namespace: svc.metadata!.namespace,
      labels: { ...labels },
      annotations: { [TRIGGER_TIME_ANNOTATION]: now },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name!, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    endpoints,
    ports,
  });
  let kept = 0;
  for (const g of groups) {
    const have = bySet.get(g.key) ?? [];
    bySet.delete(g.key);
    const want = new Map(g.endpoints.map((e) => [addrOf(e), e]));
    const placed = new Set<string>();
    const states = have.map((s) => ({
      slice: s,
      endpoints: (s.endpoints ?? []).filter((e) => want.has(addrOf(e)) && !placed.has(addrOf(e)) && placed.add(addrOf(e))).map((e) => want.get(addrOf(e))!),
    }));
    const rest = g.endpoints.filter((e) => !placed.has(addrOf(e)));
    const changed = (st: (typeof states)[number]) =>
      JSON.stringify(st.endpoints) !== JSON.stringify(st.slice.endpoints ?? []) ||
      JSON.stringify(st.slice.metadata?.labels ?? {}) !== JSON.stringify(labels) ||
      JSON.stringify(st.slice.ports ?? []) !== JSON.stringify(g.ports);
    // Fill slices that change anyway before touching unchanged ones, to write as few as possible.
    for (const st of [...states].sort((a, b) => Number(changed(b)) - Number(changed(a)))) {
      while (rest.length && st.endpoints.length < MAX_ENDPOINTS_PER_SLICE) st.endpoints.push(rest.shift()!);
    }
    for (const st of states) {
      if (!st.endpoints.length) plan.delete.push(st.slice);
      else {
        kept++;
        if (changed(st)) {
          plan.update.push({
            ...st.slice,
            metadata: { ...st.slice.metadata, labels: { ...labels }, annotations: { ...st.slice.metadata?.annotations, [TRIGGER_TIME_ANNOTATION]: now } },
            endpoints: st.endpoints,
            ports: g.ports,
          });
        }
      }
    }
    while (rest.length) plan.create.push(fresh(g.ports, rest.splice(0, MAX_ENDPOINTS_PER_SLICE)));
  }
  for (const left of bySet.values()) plan.delete.push(...left);
  if (kept === 0 && plan.create.length === 0) {
    // Upstream's placeholder: one empty slice, so readers can tell "no endpoints" from "not synced".
    const placeholder = plan.delete.find((s) => !(s.endpoints ?? []).length && !(s.ports ?? []).length);
    if (placeholder) {
      plan.delete = plan.delete.filter((s) => s !== placeholder);
      if (JSON.stringify(placeholder.metadata?.labels ?? {}) !== JSON.stringify(labels)) {
        plan.update.push({ ...placeholder, metadata: { ...placeholder.metadata, labels: { ...labels } } });
      }
    } else plan.create.push(fresh([], []));
  }
  return plan;
}

export class EndpointSliceController extends QueueController {
  readonly name = 'endpointslice-controller';

  protected override watch(): () => void {
    const store = this.registry.store;
    return onKinds(store, ['Service', 'Pod', 'EndpointSlice', 'Node'], (e) => {
      const o = e.object;
      if (e.kind === 'Service') this.queue.add(keyFor(o.metadata.namespace, o.metadata.name!));
      else if (e.kind === 'EndpointSlice') {
        const svc = o.metadata.labels?.[LABEL_SERVICE_NAME];
        if (svc && o.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) this.queue.add(keyFor(o.metadata.namespace, svc));
      } else if (e.kind === 'Pod') {
        for (const s of store.list('Service', o.metadata.namespace).items) {
          const sel = mapSelectorMatcher(s.spec?.selector);
          if (sel(o.metadata.labels) || (e.prev && sel(e.prev.metadata.labels))) this.queue.add(keyFor(s.metadata.namespace, s.metadata.name!));
        }
      } else if (e.kind === 'Node') {
        const zone = (n?: KObj) => n?.metadata.labels?.['topology.kubernetes.io/zone'];
        if (zone(e.object) !== zone(e.prev)) this.enqueueExisting();
      }
    });
  }

  /** Every Service: at start, and when a node's zone changes (it is in every slice's endpoints). */
  protected override enqueueExisting(): void {
    for (const s of this.registry.store.list('Service').items) this.queue.add(keyFor(s.metadata.namespace, s.metadata.name!));
  }

  protected override sync(key: string): void {
    const [ns, name] = splitKey(key);
    const store = this.registry.store;
    const existing = (store.list('EndpointSlice', ns).items as EndpointSlice[]).filter(
      (s) => s.metadata?.labels?.[LABEL_SERVICE_NAME] === name && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
    );
    const svc = this.registry.tryGet('Service', ns, name) as Service | undefined;
    // Without a selector (or as ExternalName) a Service gets no slices from us; we also drop ones we made earlier.
    if (!svc || svc.metadata?.deletionTimestamp || !Object.keys(svc.spec?.selector ?? {}).length || svc.spec?.type === 'ExternalName') {
      for (const s of existing) this.deleteSlice(s);
      return;
    }
    const plan = planSlices(svc, existing, store.list('Pod', ns).items as Pod[], store.list('Node').items as K8sNode[], rfc3339(this.now()));
    for (const s of plan.delete) this.deleteSlice(s);
    for (const s of plan.update) this.registry.update('EndpointSlice', ns, s.metadata!.name!, s as KObj);
    for (const s of plan.create) this.registry.create('EndpointSlice', ns, s as KObj);
    if (plan.create.length || plan.update.length || plan.delete.length) {
      const count = (store.list('EndpointSlice', ns).items as EndpointSlice[])
        .filter((s) => s.metadata?.labels?.[LABEL_SERVICE_NAME] === name && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
        .reduce((n, s) => n + (s.endpoints ?? []).length, 0);
      this.log(`endpointslice-controller: ${key}: ${count} endpoint(s) (${plan.create.length} created, ${plan.update.length} updated, ${plan.delete.length} deleted)`);
    }
  }

  private deleteSlice(s: EndpointSlice): void {
    try {
      this.registry.delete('EndpointSlice', s.metadata!.namespace, s.metadata!.name!);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }
}
