// Which endpoints a Service with a selector should have, as upstream's
// endpointslice controller computes them (pkg/controller/endpointslice/utils.go):
// pods with an IP that are not finished, terminating ones included with
// conditions.terminating, ports resolved per pod (a named targetPort is looked
// up in the pod's container ports), grouped by the resolved port set.
import type { K8sNode, Pod, Service } from '../../k8s/objects.ts';
import type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';
import type { Mutable } from '../store.ts';
import { mapSelectorMatcher } from '../selectors.ts';
import { podIsReady } from './deployment.ts';

export type SliceEndpoint = Mutable<Endpoint>;
export type SlicePort = Mutable<EndpointPort>;

export interface PortGroup {
  /** Identifies the port set; slices are matched to groups by it. */
  key: string;
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

/** Upstream's ShouldPodBeInEndpoints with includeTerminating (EndpointSliceTerminatingCondition, GA 1.26). */
export function podBelongsInEndpoints(p: Pod): boolean {
  if (!p.status?.podIP && !p.status?.podIPs?.length) return false;
  const phase = p.status?.phase;
  if (p.spec?.restartPolicy === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (p.spec?.restartPolicy === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/** podutil.FindPort: a number is used as is; a name is looked up among the pod's container ports. */
export function findPort(pod: Pod, targetPort: number | string | undefined, protocol: string, fallback: number): number | undefined {
  if (targetPort === undefined) return fallback;
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === targetPort && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

export function portsKey(ports: SlicePort[]): string {
  return JSON.stringify(ports.map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());
}

export function endpointFor(svc: Service, pod: Pod, nodes: Map<string, K8sNode>): SliceEndpoint {
  const pnra = svc.spec?.publishNotReadyAddresses === true;
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const podReady = podIsReady(pod);
  const ep: SliceEndpoint = {
    addresses: [pod.status?.podIP ?? pod.status!.podIPs![0].ip!],
    // A terminating pod is never "ready" (unless publishNotReadyAddresses), but may still be serving.
    conditions: { ready: pnra || (podReady && !terminating), serving: pnra || podReady, terminating },
  };
  if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name) ep.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) {
    ep.nodeName = pod.spec.nodeName;
    const zone = nodes.get(pod.spec.nodeName)?.metadata?.labels?.['topology.kubernetes.io/zone'];
    if (zone) ep.zone = zone;
  }
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return ep;
}

/** The endpoints a Service should have, grouped by resolved ports; pods in name order. */
export function desiredEndpointGroups(svc: Service, pods: Pod[], nodes: K8sNode[]): PortGroup[] {
  const selects = mapSelectorMatcher(svc.spec?.selector);
  const byNode = new Map(nodes.map((n) => [n.metadata!.name!, n]));
  const groups = new Map<string, PortGroup>();
  const chosen = pods
    .filter((p) => p.metadata?.namespace === svc.metadata?.namespace && selects(p.metadata?.labels) && podBelongsInEndpoints(p))
    .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  for (const pod of chosen) {
    const ports: SlicePort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP';
      const port = findPort(pod, sp.targetPort, protocol, sp.port);
      // Upstream skips a port the pod does not expose and keeps the others.
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, ports, endpoints: [] }));
    g.endpoints.push(endpointFor(svc, pod, byNode));
  }
  return [...groups.values()];
}
