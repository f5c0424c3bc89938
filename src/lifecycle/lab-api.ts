// The lab's API as the CLI verbs and scenarios need it, over the control
// plane's client (a unix socket on netns, a forwarded one on VMs): find pods by
// name or selector, read services and endpoints, apply/delete/scale objects.
import { ApiClient } from '../controlplane/client.ts';
import type { Deployment, EndpointSlice, KubeObject, Pod, Service } from '../k8s/objects.ts';
import { RESOURCES, kindGroup, type ResourceKind } from '../k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../k8s/labels.ts';
import type { LabNode } from '../cluster/driver.ts';
import { containerPidFile, podDir } from '../workloads/pod-paths.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PodView {
  name: string;
  namespace: string;
  nodeName: string;
  ip: string;
  ready: boolean;
  labels: Record<string, string>;
  /** Main container's pid as its node sees it (for exec), if running. */
  pid?: number;
  pod: Pod;
}

export interface EndpointView {
  ip: string;
  port: number;
  ready: boolean;
  nodeName: string;
  podName: string;
}

const KIND_ALIASES: Record<string, ResourceKind> = {
  svc: 'Service', service: 'Service', services: 'Service',
  pod: 'Pod', pods: 'Pod', po: 'Pod',
  deploy: 'Deployment', deployment: 'Deployment', deployments: 'Deployment',
  node: 'Node', nodes: 'Node', no: 'Node',
  ns: 'Namespace', namespace: 'Namespace', namespaces: 'Namespace',
  endpointslice: 'EndpointSlice', endpointslices: 'EndpointSlice',
  servicecidr: 'ServiceCIDR', servicecidrs: 'ServiceCIDR',
};

export function resolveKind(kind: string): ResourceKind {
  const k = (RESOURCES as Record<string, unknown>)[kind] ? (kind as ResourceKind) : KIND_ALIASES[kind.toLowerCase()];
  if (!k) throw new Error(`the server doesn't have a resource type "${kind}"`);
  return k;
}

/** REST path of a kind (collection when no name), as the apiserver lays it out. */
export function resourcePath(kind: ResourceKind, namespace?: string, name?: string): string {
  const r = RESOURCES[kind];
  const base = r.apiVersion === 'v1' ? '/api/v1' : `/apis/${r.apiVersion}`;
  const ns = r.namespaced && namespace ? `/namespaces/${namespace}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${name}` : ''}`;
}

export class LabApi {
  constructor(
    readonly client: ApiClient,
    private readonly nodes: Map<string, LabNode>,
    private readonly stateDir: string,
  ) {}

  async list<T = KubeObject>(kind: ResourceKind, namespace?: string, query: { labelSelector?: string; fieldSelector?: string } = {}): Promise<T[]> {
    const list = await this.client.list<T>(resourcePath(kind, namespace), query);
    return list.items;
  }

  async getService(name: string, namespace = 'default'): Promise<Service | undefined> {
    return this.client.getOrUndefined<Service>(resourcePath('Service', namespace, name));
  }

  /** "app=client" (a selector) or a pod name. */
  async findPods(selectorOrName: string, namespace = 'default'): Promise<PodView[]> {
    const pods = selectorOrName.includes('=')
      ? await this.list<Pod>('Pod', namespace, { labelSelector: selectorOrName })
      : [await this.client.getOrUndefined<Pod>(resourcePath('Pod', namespace, selectorOrName))].filter((p): p is Pod => Boolean(p));
    const views = await Promise.all(pods.map((p) => this.view(p)));
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async view(p: Pod): Promise<PodView> {
    const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata?.deletionTimestamp;
    const nodeName = p.spec?.nodeName ?? '';
    const container = p.spec?.containers?.[0]?.name;
    let pid: number | undefined;
    const node = this.nodes.get(nodeName);
    if (node && container) {
      const text = await node.readFile(containerPidFile(podDir(this.stateDir, p.metadata!.namespace ?? 'default', p.metadata!.name!), container));
      const n = Number(text?.trim());
      if (Number.isInteger(n) && n > 1) pid = n;
    }
    return {
      name: p.metadata?.name ?? '',
      namespace: p.metadata?.namespace ?? 'default',
      nodeName,
      ip: p.status?.podIP ?? '',
      ready,
      labels: p.metadata?.labels ?? {},
      pid,
      pod: p,
    };
  }

  async endpointsOf(service: string, namespace = 'default'): Promise<EndpointView[]> {
    const slices = await this.list<EndpointSlice>('EndpointSlice', namespace, { labelSelector: `${LABEL_SERVICE_NAME}=${service}` });
    return slices.flatMap((s) =>
      (s.endpoints ?? []).map((e) => ({
        ip: e.addresses[0],
        port: s.ports?.[0]?.port ?? 0,
        ready: e.conditions?.ready !== false,
        nodeName: e.nodeName ?? '',
        podName: e.targetRef?.name ?? '',
      })),
    );
  }

  /** Create, or replace if it exists (like `kubectl apply` for our purposes). Returns "service/x created". */
  async apply(obj: KubeObject): Promise<string> {
    const kind = resolveKind(obj.kind ?? '');
    const ns = RESOURCES[kind].namespaced ? obj.metadata?.namespace ?? 'default' : undefined;
    const name = obj.metadata?.name ?? '';
    const label = `${kindGroup(kind)}/${name}`;
    const existing = await this.client.getOrUndefined<KubeObject>(resourcePath(kind, ns, name));
    if (!existing) {
      await this.client.create(resourcePath(kind, ns), { ...obj, metadata: { ...obj.metadata, namespace: ns } });
      return `${label} created`;
    }
    const merged = { ...existing, ...obj, metadata: { ...existing.metadata, ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion } };
    // Keep what the server allocated (clusterIP, nodePorts) unless the manifest sets them.
    if (kind === 'Service') {
      const spec = { ...(existing as Service).spec, ...(obj as Service).spec };
      (merged as Service).spec = spec;
    }
    await this.client.update(resourcePath(kind, ns, name), merged);
    return `${label} configured`;
  }

  async delete(kind: string, name: string, namespace = 'default'): Promise<void> {
    const k = resolveKind(kind);
    await this.client.delete(resourcePath(k, RESOURCES[k].namespaced ? namespace : undefined, name));
  }

  async scale(deployment: string, replicas: number, namespace = 'default'): Promise<void> {
    await this.client.patch(resourcePath('Deployment', namespace, deployment), { spec: { replicas } });
  }

  /** Waits until the deployment has exactly `replicas` ready pods and no terminating ones. */
  async waitDeploymentReady(name: string, replicas: number, namespace = 'default', timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let status = 'no answer yet';
    for (;;) {
      try {
        const d = await this.client.getOrUndefined<Deployment>(resourcePath('Deployment', namespace, name));
        const selector = Object.entries(d?.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
        const pods = selector ? await this.list<Pod>('Pod', namespace, { labelSelector: selector }) : [];
        const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
        if (d && ready.length === replicas && pods.length === replicas) return;
        status = `${ready.length}/${replicas} pods ready (${pods.length} exist)`;
      } catch (err) {
        // A slow apiserver (a busy TCG VM) is worth waiting for, up to the deadline.
        status = `the apiserver did not answer: ${(err as Error).message}`;
      }
      if (Date.now() > deadline) throw new Error(`deployment ${name}: ${status} after ${timeoutMs / 1000}s`);
      await sleep(300);
    }
  }
}
