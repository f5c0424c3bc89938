// The objects kubectl's imperative verbs build, rebuilt from what kubectl's
// source specifies (pkg/cmd/expose/expose.go createService,
// pkg/cmd/create/create_service.go, create_deployment.go and the
// polymorphichelpers they use), so `svclab expose`/`create` produce the same
// Service and Deployment a learner gets from kubectl — and the same
// `--dry-run=client -o yaml`. Pure: no API calls; errors carry kubectl's words.
import type { Container, Deployment, KubeObject, Pod, Service, ServicePort } from '../../k8s/objects.ts';
import { portNameErrors } from '../../k8s/names.ts';

/** A client-side error kubectl prints as "error: <message>" (exit 1). */
export class KubectlError extends Error {
  override name = 'KubectlError';
}

// validation.DNS1035LabelMaxLength: a Service name is a DNS-1035 label.
const DNS1035_LABEL_MAX = 63;

/** "app=web,tier=db" → map; kubectl's parseLabels in expose.go. */
export function parseLabels(spec: string): Record<string, string> {
  if (!spec) throw new KubectlError('no label spec passed');
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const kv = part.split('=');
    if (kv.length !== 2) throw new KubectlError(`unexpected label spec: ${part}`);
    if (!kv[0]) throw new KubectlError('unexpected empty label key');
    out[kv[0]] = kv[1];
  }
  return out;
}

/** intstr.Parse: a number stays a number, anything else is a port name. */
export function parseIntOrString(s: string): number | string {
  return /^-?\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : s;
}

/** Go's %+v of []LabelSelectorRequirement, for expose's "couldn't convert expressions" error. */
function goRequirements(reqs: { key: string; operator: string; values?: string[] }[]): string {
  return `[${reqs.map((r) => `{Key:${r.key} Operator:${r.operator} Values:[${(r.values ?? []).join(' ')}]}`).join(' ')}]`;
}

/** polymorphichelpers.MapBasedSelectorForObject: the selector a new Service for this object gets. */
export function mapBasedSelector(obj: KubeObject): Record<string, string> {
  switch (obj.kind) {
    case 'Deployment': {
      const sel = (obj as Deployment).spec?.selector;
      if (!sel || !Object.keys(sel.matchLabels ?? {}).length) throw new KubectlError('invalid deployment: no selectors, therefore cannot be exposed');
      if (sel.matchExpressions?.length) throw new KubectlError(`couldn't convert expressions - "${goRequirements(sel.matchExpressions)}" to map-based selector format`);
      return { ...sel.matchLabels };
    }
    case 'Pod': {
      const labels = obj.metadata?.labels ?? {};
      if (!Object.keys(labels).length) throw new KubectlError('the pod has no labels and cannot be exposed');
      return { ...labels };
    }
    case 'Service': {
      const sel = (obj as Service).spec?.selector;
      if (!sel) throw new KubectlError('the service has no pod selector set');
      return { ...sel };
    }
    default:
      throw new KubectlError(`cannot extract pod selector from ${obj.kind}`);
  }
}

function podSpecOf(obj: KubeObject) {
  if (obj.kind === 'Pod') return (obj as Pod).spec;
  if (obj.kind === 'Deployment') return (obj as Deployment).spec?.template?.spec;
  return undefined;
}

/** polymorphichelpers.PortsForObject: container ports (pods, deployments) or service ports, as strings. */
export function portsForObject(obj: KubeObject): string[] {
  if (obj.kind === 'Service') return ((obj as Service).spec?.ports ?? []).map((p) => String(p.port));
  return (podSpecOf(obj)?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => String(p.containerPort)));
}

/** polymorphichelpers.MultiProtocolsForObject: port → protocols, an empty protocol meaning TCP. */
export function protocolsForObject(obj: KubeObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (port: number, protocol?: string) => out.set(String(port), [...(out.get(String(port)) ?? []), protocol || 'TCP']);
  if (obj.kind === 'Service') for (const p of (obj as Service).spec?.ports ?? []) add(p.port, p.protocol);
  else for (const c of podSpecOf(obj)?.containers ?? []) for (const p of c.ports ?? []) add(p.containerPort, p.protocol);
  return out;
}

export interface ExposeOptions {
  port?: string;
  targetPort?: string;
  protocol?: string;
  type?: string;
  name?: string;
  labels?: string;
  selector?: string;
  externalIP?: string;
  loadBalancerIP?: string;
  sessionAffinity?: string;
  clusterIP?: string;
  /** svclab's addition: kubectl expose has no --node-port (kubectl users reach for --overrides). */
  nodePort?: number;
}

const EXPOSABLE = ['Deployment', 'Pod', 'Service'];
// GroupKind.String() of the kinds the lab serves, for "cannot expose a ...".
const GROUP_KIND: Record<string, string> = { EndpointSlice: 'EndpointSlice.discovery.k8s.io', ServiceCIDR: 'ServiceCIDR.networking.k8s.io' };

/** `kubectl expose KIND NAME ...`: the Service, exactly as expose.go's createService builds it. */
export function exposeService(target: KubeObject, o: ExposeOptions): Service {
  if (!EXPOSABLE.includes(target.kind ?? '')) {
    throw new KubectlError(`cannot expose a ${GROUP_KIND[target.kind ?? ''] ?? target.kind}`);
  }
  let selectorText = o.selector;
  let selector: Record<string, string>;
  if (selectorText) selector = parseLabels(selectorText);
  else {
    try {
      selector = mapBasedSelector(target);
    } catch (e) {
      throw new KubectlError(`couldn't retrieve selectors via --selector flag or introspection: ${(e as Error).message}`);
    }
    selectorText = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    if (!selectorText) throw new KubectlError('selector must be specified');
  }

  let port = o.port;
  let ports: string[] | undefined;
  if (!port) {
    const found = portsForObject(target);
    if (found.length === 0 && o.clusterIP !== 'None') throw new KubectlError("couldn't find port via --port flag or introspection");
    if (found.length === 1) port = found[0];
    else if (found.length > 1) ports = found;
  }
  const protocols = protocolsForObject(target);
  const labels = o.labels ? parseLabels(o.labels) : Object.keys(target.metadata?.labels ?? {}).length ? { ...target.metadata!.labels } : undefined;
  const name = o.name || (target.metadata?.name ?? '').slice(0, DNS1035_LABEL_MAX);
  if (!name) throw new KubectlError('name must be specified');

  const servicePorts: ServicePort[] = [];
  const list = ports ?? (port ? port.split(',') : []);
  list.forEach((p, i) => {
    if (!/^[+-]?\d+$/.test(p)) throw new KubectlError(`strconv.Atoi: parsing ${JSON.stringify(p)}: invalid syntax`);
    const number = Number(p);
    const portName = list.length > 1 ? `port-${i + 1}` : undefined;
    let protocol = o.protocol;
    if (!protocol) {
      protocol = 'TCP';
      const found = protocols.get(p);
      if (found?.length === 1) protocol = found[0];
      else if (found && found.length > 1) {
        // One port serving several protocols becomes one Service port per protocol.
        for (const proto of found) servicePorts.push(ordered({ name: `port-${i + 1}-${proto.toLowerCase()}`, protocol: proto, port: number }));
        return;
      }
    }
    servicePorts.push(ordered({ name: portName, protocol, port: number }));
  });
  for (const sp of servicePorts) sp.targetPort = o.targetPort ? parseIntOrString(o.targetPort) : sp.port;
  if (o.nodePort !== undefined) {
    if (servicePorts.length !== 1) throw new KubectlError(`--node-port needs exactly one service port, not ${servicePorts.length}`);
    servicePorts[0].nodePort = o.nodePort;
  }

  let sessionAffinity: string | undefined;
  if (o.sessionAffinity) {
    if (o.sessionAffinity !== 'None' && o.sessionAffinity !== 'ClientIP') throw new KubectlError(`unknown session affinity: ${o.sessionAffinity}`);
    sessionAffinity = o.sessionAffinity;
  }
  const type = o.type || undefined;
  return serviceObject(name, labels, {
    ports: servicePorts.map(ordered),
    selector: parseLabels(selectorText),
    clusterIP: o.clusterIP || undefined,
    type,
    externalIPs: o.externalIP ? [o.externalIP] : undefined,
    sessionAffinity,
    loadBalancerIP: type === 'LoadBalancer' && o.loadBalancerIP ? o.loadBalancerIP : undefined,
  });
}

/** kubectl's parsePorts for `--tcp`: "port[:targetPort]", targetPort a number or an IANA port name. */
export function parseTcpPort(spec: string): { port: number; targetPort: number | string } {
  const [portText, target] = spec.split(':');
  // utilsnet.ParsePort: an unsigned 16-bit number (zero allowed here).
  if (!/^\d+$/.test(portText)) throw new KubectlError(`strconv.ParseUint: parsing ${JSON.stringify(portText)}: invalid syntax`);
  const port = Number(portText);
  if (port > 65535) throw new KubectlError(`strconv.ParseUint: parsing ${JSON.stringify(portText)}: value out of range`);
  if (target === undefined) return { port, targetPort: port };
  if (/^[+-]?\d+$/.test(target)) {
    const n = Number(target);
    if (n < 1 || n > 65535) throw new KubectlError('must be between 1 and 65535, inclusive');
    return { port, targetPort: n };
  }
  const errs = portNameErrors(target);
  if (errs.length) throw new KubectlError(errs.join(','));
  return { port, targetPort: target };
}

export interface CreateServiceOptions {
  /** `--tcp` values; each may hold several comma-separated pairs (a StringSlice flag). */
  tcp: string[];
  clusterIP?: string;
  nodePort?: number;
  externalName?: string;
}

export type CreateServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

/** `kubectl create service clusterip|nodeport|loadbalancer|externalname NAME`: create_service.go's createService. */
export function createService(type: CreateServiceType, name: string, o: CreateServiceOptions): Service {
  const tcp = o.tcp.flatMap((t) => t.split(',')).filter(Boolean);
  if (o.clusterIP === 'None' && type !== 'ClusterIP') throw new KubectlError('ClusterIP=None can only be used with ClusterIP service type');
  if (o.clusterIP !== 'None' && tcp.length === 0 && type !== 'ExternalName') throw new KubectlError('at least one tcp port specifier must be provided');
  if (type === 'ExternalName' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(o.externalName ?? '')) {
    throw new KubectlError(`invalid service external name ${o.externalName ?? ''}`);
  }
  const ports = tcp.map((spec) => {
    const { port, targetPort } = parseTcpPort(spec);
    // kubectl names each port after its flag value, ":" turned into "-" ("8080:80" → "8080-80").
    return ordered({ name: spec.replace(/:/g, '-'), protocol: 'TCP', port, targetPort, nodePort: o.nodePort || undefined });
  });
  return serviceObject(name, { app: name }, {
    ports,
    selector: { app: name },
    clusterIP: o.clusterIP || undefined,
    type,
    externalName: o.externalName || undefined,
  });
}

export interface CreateDeploymentOptions {
  images: string[];
  replicas?: number;
  /** --port: the first container's containerPort (kubectl's default -1 means none). */
  port?: number;
  /** Arguments after "--": the container command. */
  command?: string[];
  /** For the name suffix kubectl adds to sanitised container names; tests pass a fixed one. */
  random?: () => number;
}

/** utilrand.String's alphabet: no vowels, no easily confused characters. */
const RAND_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Container name from an image: last path part, without tag or digest; "." and "_" become "-" plus a random suffix. */
export function containerNameFromImage(image: string, random: () => number = Math.random): string {
  let name = image.split('/').pop() ?? image;
  if (name.includes(':')) name = name.split(':')[0];
  if (name.includes('@')) name = name.split('@')[0];
  if (/[_.]/.test(name)) {
    const suffix = Array.from({ length: 5 }, () => RAND_ALPHABET[Math.floor(random() * RAND_ALPHABET.length)]).join('');
    name = `${name.replace(/[_.]/g, '-')}-${suffix}`;
  }
  return name;
}

/** `kubectl create deployment NAME --image=...`: create_deployment.go's createDeployment. */
export function createDeployment(name: string, o: CreateDeploymentOptions): Deployment {
  if (!o.images.length) throw new KubectlError('required flag(s) "image" not set');
  if (o.images.length > 1 && o.command?.length) throw new KubectlError('cannot specify multiple --image options and command');
  const labels = { app: name };
  const containers: Container[] = o.images.map((image) => {
    const c: Container = { name: containerNameFromImage(image, o.random), image };
    if (o.command?.length) c.command = [...o.command];
    return c;
  });
  if (o.port !== undefined && o.port >= 0 && containers.length) containers[0].ports = [{ containerPort: o.port }];
  // Go serialises the zero structs: "resources: {}", "strategy: {}", "status: {}".
  const withResources = containers.map((c) => ({ ...c, resources: {} }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { ...labels } },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { ...labels } },
      template: { metadata: { labels: { ...labels } }, spec: { containers: withResources } },
      strategy: {},
    },
    status: {},
  };
}

// Go struct order of ServicePort, so -o json reads like kubectl's.
function ordered(p: Partial<ServicePort>): ServicePort {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'] as const) if (p[k] !== undefined) out[k] = p[k];
  return out as unknown as ServicePort;
}

function serviceObject(name: string, labels: Record<string, string> | undefined, spec: Record<string, unknown>): Service {
  const s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) if (v !== undefined) s[k] = v;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: s as Service['spec'],
    // ServiceStatus is a struct, so kubectl prints "status: {loadBalancer: {}}".
    status: { loadBalancer: {} },
  };
}

/**
 * What goes to the server: the object without the zero-value status and
 * strategy kubectl's printer shows (the lab apiserver defaults a missing
 * strategy; an empty one would stay empty).
 */
export function wireObject<T extends KubeObject>(obj: T): T {
  const { status: _status, ...rest } = obj as T & { status?: unknown };
  const out = structuredClone(rest) as T & { spec?: { strategy?: object } };
  if (out.spec?.strategy && Object.keys(out.spec.strategy).length === 0) delete out.spec.strategy;
  return out as T;
}
