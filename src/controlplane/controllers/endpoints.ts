// The v1 Endpoints controller, kept because `kubectl get endpoints` and
// `describe service` readers still look there: one Endpoints object per Service
// with a selector, ready pods in subsets[].addresses, unready ones in
// notReadyAddresses; terminating pods are left out (unless
// publishNotReadyAddresses), as upstream's endpoints controller does.
import type { K8sNode, Pod, Service } from '../../k8s/objects.ts';
import type { KObj } from '../store.ts';
import { mapSelectorMatcher } from '../selectors.ts';
import { desiredEndpointGroups } from './endpoint-set.ts';
import { LABEL_HEADLESS } from '../../k8s/labels.ts';
import { keyFor, onKinds, QueueController, splitKey } from './queue.ts';

/** The Endpoints object a Service should have (pure). */
export function desiredEndpoints(svc: Service, pods: Pod[], nodes: K8sNode[]): KObj {
  const pnra = svc.spec?.publishNotReadyAddresses === true;
  const subsets = desiredEndpointGroups(svc, pods, nodes)
    .map((g) => {
      const eps = g.endpoints.filter((e) => pnra || !e.conditions?.terminating);
      const addr = (e: (typeof eps)[number]) => ({
        ip: e.addresses[0],
        ...(e.hostname ? { hostname: e.hostname } : {}),
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        targetRef: e.targetRef,
      });
      const addresses = eps.filter((e) => e.conditions?.ready).map(addr);
      const notReadyAddresses = eps.filter((e) => !e.conditions?.ready).map(addr);
      return {
        ...(addresses.length ? { addresses } : {}),
        ...(notReadyAddresses.length ? { notReadyAddresses } : {}),
        ports: g.ports.map((p) => ({ name: p.name || undefined, port: p.port, protocol: p.protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
      };
    })
    .filter((s) => s.addresses || s.notReadyAddresses);
  const labels: Record<string, string> = { ...svc.metadata?.labels };
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata!.name!, namespace: svc.metadata!.namespace, ...(Object.keys(labels).length ? { labels } : {}) },
    ...(subsets.length ? { subsets: JSON.parse(JSON.stringify(subsets)) } : {}),
  };
}

export class EndpointsController extends QueueController {
  readonly name = 'endpoints-controller';

  protected override watch(): () => void {
    const store = this.registry.store;
    return onKinds(store, ['Service', 'Pod'], (e) => {
      const o = e.object;
      if (e.kind === 'Service') return this.queue.add(keyFor(o.metadata.namespace, o.metadata.name!));
      for (const s of store.list('Service', o.metadata.namespace).items) {
        const sel = mapSelectorMatcher(s.spec?.selector);
        if (sel(o.metadata.labels) || (e.prev && sel(e.prev.metadata.labels))) this.queue.add(keyFor(s.metadata.namespace, s.metadata.name!));
      }
    });
  }

  protected override enqueueExisting(): void {
    for (const s of this.registry.store.list('Service').items) this.queue.add(keyFor(s.metadata.namespace, s.metadata.name!));
  }

  protected override sync(key: string): void {
    const [ns, name] = splitKey(key);
    const svc = this.registry.tryGet('Service', ns, name) as Service | undefined;
    const cur = this.registry.tryGet('Endpoints', ns, name);
    if (!svc || !Object.keys(svc.spec?.selector ?? {}).length || svc.spec?.type === 'ExternalName') {
      // Selectorless Services own their Endpoints (the user writes them); only clean up after deleted ones.
      if (!svc && cur) this.registry.delete('Endpoints', ns, name);
      return;
    }
    const want = desiredEndpoints(svc, this.registry.store.list('Pod', ns).items as Pod[], this.registry.store.list('Node').items as K8sNode[]);
    if (!cur) this.registry.create('Endpoints', ns, want);
    else if (JSON.stringify(cur.subsets ?? []) !== JSON.stringify(want.subsets ?? []) || JSON.stringify(cur.metadata.labels ?? {}) !== JSON.stringify(want.metadata.labels ?? {})) {
      this.registry.update('Endpoints', ns, name, { ...want, metadata: { ...cur.metadata, labels: want.metadata.labels } });
    }
  }
}
