// kubectl's table layouts and age format, for `svclab get` (and describe).
import type { Deployment, EndpointSlice, K8sNode, Pod, Service } from '../../k8s/objects.ts';

/** kubectl's HumanDuration (k8s.io/apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '<invalid>';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

const age = (o: { metadata?: { creationTimestamp?: string } }) =>
  o.metadata?.creationTimestamp ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)) : '<unknown>';

export interface Columns {
  headers: string[];
  wide: string[];
  row: (o: never) => string[];
  wideRow: (o: never) => string[];
}

function servicePorts(s: Service): string {
  const ports = s.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIP(s: Service): string {
  const lb = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean);
  const ext = [...lb, ...(s.spec?.externalIPs ?? [])];
  if (ext.length) return ext.join(',');
  return s.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>';
}

function selector(sel?: Record<string, string>): string {
  const e = Object.entries(sel ?? {});
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function podStatus(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
  return waiting ?? p.status?.phase ?? 'Pending';
}

export const COLUMNS: Record<string, Columns> = {
  Pod: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: (p: Pod) => {
      const cs = p.status?.containerStatuses ?? [];
      const total = p.spec?.containers?.length ?? 0;
      const restarts = cs.reduce((a, c) => a + (c.restartCount ?? 0), 0);
      return [p.metadata!.name!, `${cs.filter((c) => c.ready).length}/${total}`, podStatus(p), String(restarts), age(p)];
    },
    wideRow: (p: Pod) => [p.status?.podIP ?? '<none>', p.spec?.nodeName ?? '<none>', '<none>', '<none>'],
  },
  Service: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row: (s: Service) => [s.metadata!.name!, s.spec?.type ?? 'ClusterIP', s.spec?.clusterIP ?? '<none>', externalIP(s), servicePorts(s), age(s)],
    wideRow: (s: Service) => [selector(s.spec?.selector)],
  },
  Node: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: (n: K8sNode) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      const roles = Object.keys(n.metadata?.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]);
      return [n.metadata!.name!, ready ? 'Ready' : 'NotReady', roles.join(',') || '<none>', age(n), n.status?.nodeInfo?.kubeletVersion ?? ''];
    },
    wideRow: (n: K8sNode) => [
      n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '<none>', '<none>',
      n.status?.nodeInfo?.osImage ?? '', n.status?.nodeInfo?.kernelVersion ?? '', n.status?.nodeInfo?.containerRuntimeVersion ?? '',
    ],
  },
  EndpointSlice: {
    headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    wide: [],
    row: (e: EndpointSlice) => {
      const ports = (e.ports ?? []).map((p) => String(p.port)).join(',') || '<unset>';
      const addrs = (e.endpoints ?? []).flatMap((x) => x.addresses);
      const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
      return [e.metadata!.name!, e.addressType, ports, shown || '<unset>', age(e)];
    },
    wideRow: () => [],
  },
  Deployment: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (d: Deployment) => [
      d.metadata!.name!, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, String(d.status?.updatedReplicas ?? 0), String(d.status?.availableReplicas ?? 0), age(d),
    ],
    wideRow: (d: Deployment) => [
      (d.spec?.template?.spec?.containers ?? []).map((c) => c.name).join(','),
      (d.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(','),
      selector(d.spec?.selector?.matchLabels),
    ],
  },
  Namespace: {
    headers: ['NAME', 'STATUS', 'AGE'],
    wide: [],
    row: (n: { metadata?: { name?: string; creationTimestamp?: string }; status?: { phase?: string } }) => [n.metadata!.name!, n.status?.phase ?? 'Active', age(n)],
    wideRow: () => [],
  },
};
