// What a fresh kubeadm cluster already has, so the lab looks like one: the
// four system namespaces, a Node per lab node, the `kubernetes` ServiceCIDR,
// the `kubernetes` Service (first address of the range, 443 -> the apiserver's
// 6443) with its Endpoints and EndpointSlice kept as upstream's apiserver keeps
// them, and the kube-dns Service (10th address) with a one-replica coredns
// Deployment on the control-plane node (the kubelet runs Debian's dnsmasq for it).
import { arch } from 'node:os';
import type { Registry } from '../registry.ts';
import { KUBE_VERSION } from '../resources.ts';
import { rfc3339, type KObj } from '../store.ts';
import { LABEL_SERVICE_NAME } from '../../k8s/labels.ts';
import { onKinds, QueueController, type Log } from './queue.ts';

export interface LabNodeInfo {
  name: string;
  ip: string;
  podCIDR: string;
}

export interface ClusterInfo {
  serviceCIDR: string;
  nodes: LabNodeInfo[];
  controlPlaneNode: string;
  /** The apiserver's node-network address: the `kubernetes` endpoint. */
  advertiseAddress: string;
  securePort: number;
}

export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.1';
const goArch = () => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm' })[arch() as string] ?? arch();

export function nodeObject(n: LabNodeInfo, controlPlane: boolean, now: Date): KObj {
  const at = rfc3339(now);
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: at, lastTransitionTime: at, reason, message });
  const a = goArch();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'beta.kubernetes.io/arch': a,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': a,
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }],
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      capacity: { cpu: '2', memory: '2Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '2Gi', pods: '110' },
      nodeInfo: {
        architecture: a,
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '',
        kubeletVersion: KUBE_VERSION.gitVersion,
        kubeProxyVersion: KUBE_VERSION.gitVersion,
        containerRuntimeVersion: 'svclab://0.1.0',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}

function kubernetesEndpointObjects(info: ClusterInfo): { endpoints: KObj; slice: KObj } {
  const port = { name: 'https', port: info.securePort, protocol: 'TCP' };
  return {
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: info.advertiseAddress }], ports: [port] }],
    },
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'kubernetes' } },
      addressType: info.advertiseAddress.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [info.advertiseAddress], conditions: { ready: true } }],
      ports: [port],
    },
  };
}

function kubernetesService(info: ClusterInfo, ip: string): KObj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], sessionAffinity: 'None', ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: info.securePort }] },
  };
}

function kubeDNS(ip: string, controlPlaneNode: string): { service: KObj; deployment: KObj } {
  const labels = { 'k8s-app': 'kube-dns' };
  return {
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        clusterIP: ip,
        clusterIPs: [ip],
        selector: labels,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
        template: {
          metadata: { labels },
          spec: {
            nodeName: controlPlaneNode,
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            containers: [{
              name: 'coredns',
              image: COREDNS_IMAGE,
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
            }],
          },
        },
      },
    },
  };
}

/** Creates what is missing and brings Nodes and the ServiceCIDR in line with the lab; logs what it made. */
export function ensureBuiltins(registry: Registry, info: ClusterInfo, log: Log, now = new Date()): void {
  // Creations show up in the apiserver's change log; only what it does not say is logged here.
  const ensure = (kind: string, ns: string | undefined, obj: KObj) => {
    if (!registry.tryGet(kind, ns, obj.metadata.name!)) registry.create(kind, ns, obj);
  };
  for (const ns of SYSTEM_NAMESPACES) ensure('Namespace', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const n of info.nodes) {
    const want = nodeObject(n, n.name === info.controlPlaneNode, now);
    const cur = registry.tryGet('Node', undefined, n.name);
    if (!cur) {
      registry.create('Node', undefined, want);
      log(`apiserver: registered node ${n.name} (${n.ip}, podCIDR ${n.podCIDR})`);
    } else if (cur.spec?.podCIDR !== n.podCIDR || cur.status?.addresses?.[0]?.address !== n.ip) {
      registry.store.update({ ...cur, spec: want.spec, status: { ...cur.status, addresses: want.status.addresses } });
      log(`apiserver: updated node ${n.name} (${n.ip}, podCIDR ${n.podCIDR})`);
    }
  }
  const cidr = registry.tryGet('ServiceCIDR', undefined, 'kubernetes');
  const cidrObj: KObj = { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs: [info.serviceCIDR] } };
  const ready = { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(now), reason: '', message: 'Kubernetes Service CIDR is ready' }] };
  if (!cidr) {
    registry.create('ServiceCIDR', undefined, { ...cidrObj, status: ready });
  } else if (cidr.spec?.cidrs?.[0] !== info.serviceCIDR) registry.store.update({ ...cidr, spec: cidrObj.spec });

  const ips = registry.services.ips;
  ensure('Service', 'default', kubernetesService(info, ips.nth(1)));
  syncKubernetesEndpoints(registry, info);
  let tenth: string | undefined;
  try {
    tenth = ips.nth(10);
    if (!registry.services.inRange(tenth)) tenth = undefined;
  } catch {
    tenth = undefined;
  }
  if (!tenth) log(`apiserver: service range ${info.serviceCIDR} has no 10th address; not creating kube-dns`);
  else {
    const dns = kubeDNS(tenth, info.controlPlaneNode);
    ensure('Service', 'kube-system', dns.service);
    ensure('Deployment', 'kube-system', dns.deployment);
  }
}

/** Upstream's EndpointsAdapter.Sync: the `kubernetes` Endpoints and EndpointSlice point at this apiserver. */
export function syncKubernetesEndpoints(registry: Registry, info: ClusterInfo): void {
  const want = kubernetesEndpointObjects(info);
  for (const [kind, obj] of [['Endpoints', want.endpoints], ['EndpointSlice', want.slice]] as const) {
    const cur = registry.tryGet(kind, 'default', 'kubernetes');
    if (!cur) registry.create(kind, 'default', obj);
    else {
      const { metadata: _a, apiVersion: _b, kind: _c, ...body } = obj;
      const { metadata: _d, apiVersion: _e, kind: _f, ...have } = cur;
      if (JSON.stringify(body) !== JSON.stringify(have) || JSON.stringify(cur.metadata.labels) !== JSON.stringify(obj.metadata.labels)) {
        registry.update(kind, 'default', 'kubernetes', { ...obj, metadata: { ...cur.metadata, labels: obj.metadata.labels } });
      }
    }
  }
}

/** Keeps default/kubernetes (Service, Endpoints, EndpointSlice) as the apiserver's own controller does. */
export class KubernetesServiceController extends QueueController {
  readonly name = 'kubernetes-service-controller';

  constructor(
    registry: Registry,
    private readonly info: ClusterInfo,
    log: Log,
  ) {
    super(registry, log);
  }

  protected override watch(): () => void {
    return onKinds(this.registry.store, ['Service', 'Endpoints', 'EndpointSlice'], (e) => {
      if (e.object.metadata.namespace === 'default' && e.object.metadata.name === 'kubernetes') this.queue.add('kubernetes');
    });
  }

  protected override sync(): void {
    const ip = this.registry.services.ips.nth(1);
    if (!this.registry.tryGet('Service', 'default', 'kubernetes')) this.registry.create('Service', 'default', kubernetesService(this.info, ip));
    syncKubernetesEndpoints(this.registry, this.info);
  }
}
