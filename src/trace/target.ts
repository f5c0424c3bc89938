// What `svclab trace FROM TO` names: FROM is a pod (name or label selector), a
// node, or "external"; TO is a Service (name[.namespace][:port]), a
// ClusterIP:port, a pod:port, or a NodePort as NodeIP:port / node-name:port.
// Resolved against the lab's API into addresses, the Service behind them and
// where the packet first meets kube-proxy's rules.
import type { LabLayout } from '../lab/load.ts';
import type { LabApi } from '../lifecycle/lab-api.ts';
import type { Pod, Service, ServicePort } from '../k8s/objects.ts';
import type { Target } from '../scenario/context.ts';
import { normalizeIP } from '../util/cidr.ts';
import { EnvironmentError } from '../util/errors.ts';

export function parseFrom(text: string, layout: LabLayout): Target {
  if (text === 'external') return { external: true };
  if (layout.nodes.some((n) => n.name === text)) return { node: text };
  if (!text) throw new EnvironmentError('FROM is empty', 'name a pod (or app=label), a node (node-01) or external');
  return { pod: text };
}

export interface ServiceRef {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  port: number;
  portName?: string;
  protocol: string;
  targetPort?: number | string;
  nodePort?: number;
  externalTrafficPolicy?: string;
}

export interface Destination {
  /** As the user wrote it. */
  text: string;
  kind: 'service' | 'cluster-ip' | 'node-port' | 'pod' | 'address';
  /** The address and port the client dials. */
  host: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  service?: ServiceRef;
  /** The node whose address a NodePort destination is. */
  node?: string;
  /** The pod a pod:port destination is. */
  pod?: string;
}

function servicePortRef(svc: Service, p: ServicePort): ServiceRef {
  const ref: ServiceRef = {
    namespace: svc.metadata?.namespace ?? 'default',
    name: svc.metadata?.name ?? '',
    type: svc.spec?.type ?? 'ClusterIP',
    clusterIP: svc.spec?.clusterIP ?? '',
    port: p.port,
    protocol: p.protocol ?? 'TCP',
  };
  if (p.name) ref.portName = p.name;
  if (p.targetPort !== undefined) ref.targetPort = p.targetPort;
  if (p.nodePort) ref.nodePort = p.nodePort;
  if (svc.spec?.externalTrafficPolicy) ref.externalTrafficPolicy = svc.spec.externalTrafficPolicy;
  return ref;
}

const svcLabel = (s: Service) => `${s.metadata?.namespace}/${s.metadata?.name}`;

/** "db-service" → its only port; "db-service:3306" or ":mysql" → that port. */
function pickPort(svc: Service, port: string | undefined): ServicePort {
  const ports = svc.spec?.ports ?? [];
  const list = ports.map((p) => `${p.port}${p.name ? ` (${p.name})` : ''}`).join(', ');
  if (port === undefined) {
    if (ports.length === 1) return ports[0];
    throw new EnvironmentError(`service ${svcLabel(svc)} has ${ports.length} ports (${list || 'none'}): say which`, `e.g. ${svc.metadata?.name}:${ports[0]?.port ?? 80}`);
  }
  const p = ports.find((x) => String(x.port) === port || x.name === port);
  if (!p) throw new EnvironmentError(`service ${svcLabel(svc)} has no port ${port} (ports: ${list || 'none'})`);
  return p;
}

function splitPort(text: string): { host: string; port?: string } {
  const i = text.lastIndexOf(':');
  return i < 0 ? { host: text } : { host: text.slice(0, i), port: text.slice(i + 1) };
}

function numericPort(port: string | undefined, text: string): number {
  const n = Number(port);
  if (!port || !Number.isInteger(n) || n < 1 || n > 65535) throw new EnvironmentError(`"${text}" needs a port number (HOST:PORT)`);
  return n;
}

export async function resolveDestination(api: LabApi, layout: LabLayout, text: string, namespace = 'default'): Promise<Destination> {
  const { host, port } = splitPort(text);
  const services = await api.list<Service>('Service');
  const node = layout.nodes.find((n) => n.name === host || n.ip === normalizeIP(host));
  if (node) {
    const n = numericPort(port, text);
    const dest: Destination = { text, kind: 'node-port', host: node.ip, port: n, protocol: 'TCP', node: node.name };
    for (const s of services) {
      const p = (s.spec?.ports ?? []).find((x) => x.nodePort === n);
      if (p) {
        dest.service = servicePortRef(s, p);
        dest.protocol = dest.service.protocol as Destination['protocol'];
      }
    }
    return dest;
  }
  const ip = normalizeIP(host);
  if (ip) {
    const n = numericPort(port, text);
    const svc = services.find((s) => s.spec?.clusterIP === ip || (s.spec?.clusterIPs ?? []).includes(ip));
    if (svc) {
      const p = pickPort(svc, String(n));
      return { text, kind: 'cluster-ip', host: ip, port: n, protocol: (p.protocol ?? 'TCP') as Destination['protocol'], service: servicePortRef(svc, p) };
    }
    const pod = (await api.list<Pod>('Pod')).find((p) => p.status?.podIP === ip);
    return pod
      ? { text, kind: 'pod', host: ip, port: n, protocol: 'TCP', pod: pod.metadata?.name ?? '' }
      : { text, kind: 'address', host: ip, port: n, protocol: 'TCP' };
  }
  // A name: Service "name" or "name.namespace[.svc…]", else a pod.
  const [name, ns = namespace] = host.split('.');
  const svc = services.find((s) => s.metadata?.name === name && (s.metadata?.namespace ?? 'default') === ns);
  if (svc) {
    if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') {
      throw new EnvironmentError(`service ${svcLabel(svc)} is headless (no ClusterIP): kube-proxy has no rules for it`, 'trace a pod:port instead');
    }
    const p = pickPort(svc, port);
    return { text, kind: 'service', host: svc.spec.clusterIP, port: p.port, protocol: (p.protocol ?? 'TCP') as Destination['protocol'], service: servicePortRef(svc, p) };
  }
  const pods = await api.findPods(host, namespace);
  if (pods.length && pods[0].ip) return { text, kind: 'pod', host: pods[0].ip, port: numericPort(port, text), protocol: 'TCP', pod: pods[0].name };
  throw new EnvironmentError(
    `"${host}" is no Service, pod or node of this lab`,
    `services: ${services.map((s) => s.metadata?.name).join(', ') || 'none'}; nodes: ${layout.nodes.map((n) => n.name).join(', ')}`,
  );
}

export type Via = 'tcp' | 'http' | 'sql';

/** How to talk to the destination when not told: SQL for MySQL's port, HTTP for web ports, else a bare TCP connect. */
export function defaultVia(dest: Destination): Via {
  const port = dest.service?.port ?? dest.port;
  const name = dest.service?.portName ?? '';
  if (port === 3306 || /mysql|maria|sql/.test(name)) return 'sql';
  if ([80, 8080].includes(port) || /^http/.test(name)) return 'http';
  return 'tcp';
}
