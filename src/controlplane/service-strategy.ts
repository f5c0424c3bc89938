// What the apiserver does to a Service on create, update and delete, in
// upstream's order: defaulting (pkg/apis/core/v1/defaults.go), the strategy's
// normalising (pkg/registry/core/service/strategy.go), IP-family and
// allocation work (storage/alloc.go), then validation (apis/core/validation).
// Error texts are upstream's; allocation happens before validation, as in
// upstream's BeginCreate, so a taken nodePort is reported even when other
// fields are also wrong.
import type { Service as ApiService, ServicePort as ApiServicePort } from '../k8s/objects.ts';
import type { Mutable } from './store.ts';
import { cidrContains, ipFamily, normalizeIP, parseCidr } from '../util/cidr.ts';
import { AllocationError, type ClusterIPAllocator, type NodePortAllocator } from './allocators.ts';
import { field, internalError, invalid, type FieldError, type GoValue } from './status.ts';
import { resourceFor } from './resources.ts';
import { dns1123LabelError, portNameErrors } from '../k8s/names.ts';

/** An allocation in progress: commit keeps it (and performs deferred releases), revert undoes it. */
export interface Txn {
  commit(): void;
  revert(): void;
}

class AllocOp implements Txn {
  private readonly undo: (() => void)[] = [];
  private readonly deferred: (() => void)[] = [];
  onRevert(f: () => void) {
    this.undo.push(f);
  }
  onCommit(f: () => void) {
    this.deferred.push(f);
  }
  commit() {
    for (const f of this.deferred) f();
    this.deferred.length = this.undo.length = 0;
  }
  revert() {
    for (const f of this.undo.reverse()) f();
    this.deferred.length = this.undo.length = 0;
  }
}

type Service = Mutable<ApiService>;
type ServicePort = Mutable<ApiServicePort>;

const SERVICE = resourceFor('Service');
const IP_HINT = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const PORT_RANGE_MSG = 'must be between 1 and 65535, inclusive';

type Spec = NonNullable<Service['spec']>;

export const isHeadless = (s: Service) => (s.spec?.clusterIPs?.[0] ?? s.spec?.clusterIP) === 'None';
const typeOf = (s: Service) => s.spec?.type ?? 'ClusterIP';
export const needsClusterIP = (s: Service) => typeOf(s) !== 'ExternalName';
export const needsNodePort = (s: Service) => typeOf(s) === 'NodePort' || typeOf(s) === 'LoadBalancer';
/** Upstream's ExternallyAccessible: NodePort, LoadBalancer, or a ClusterIP service with externalIPs. */
export const externallyAccessible = (s: Service) =>
  needsNodePort(s) || (typeOf(s) === 'ClusterIP' && (s.spec?.externalIPs?.length ?? 0) > 0);
/** Upstream's NeedsHealthCheck: only LoadBalancer services with externalTrafficPolicy Local. */
export const needsHealthCheck = (s: Service) => typeOf(s) === 'LoadBalancer' && s.spec?.externalTrafficPolicy === 'Local';
const shouldAllocateNodePorts = (s: Service) =>
  typeOf(s) === 'NodePort' || (typeOf(s) === 'LoadBalancer' && s.spec?.allocateLoadBalancerNodePorts !== false);

const sameStrings = (a?: string[], b?: string[]) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** SetDefaults_Service: what a Service gets before anything else looks at it. */
export function setServiceDefaults(svc: Service): void {
  const spec: Spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    spec.sessionAffinityConfig = { clientIP: { ...spec.sessionAffinityConfig?.clientIP, timeoutSeconds: 10800 } };
  }
  for (const p of spec.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.type !== 'ExternalName' && !spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
}

/** Strategy NormalizeClusterIPs: keep the singular and plural fields in step, as old and new clients send them. */
function normalizeClusterIPs(svc: Service, old?: Service): void {
  const spec = svc.spec!;
  if (!old) {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
    return;
  }
  const o = old.spec!;
  if (o.clusterIPs?.length && !spec.clusterIPs?.length && o.clusterIP === spec.clusterIP) spec.clusterIPs = o.clusterIPs;
  if (o.clusterIP !== spec.clusterIP) {
    if (o.clusterIP && !spec.clusterIP) {
      if (sameStrings(o.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameStrings(o.clusterIPs, spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP!];
  }
}

/** patchAllocatedValues: a PUT that leaves out what the server allocated keeps it (idempotent replace). */
function patchAllocatedValues(svc: Service, old: Service): void {
  const spec = svc.spec!, o = old.spec!;
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP) spec.clusterIP = o.clusterIP;
    if (!spec.clusterIPs?.length && o.clusterIPs) spec.clusterIPs = [...o.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const used = new Set((spec.ports ?? []).map((p) => p.nodePort).filter(Boolean));
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const match = (o.ports ?? []).find((q) => (q.name ?? '') === (p.name ?? ''));
      if (match?.nodePort && !used.has(match.nodePort)) {
        p.nodePort = match.nodePort;
        used.add(match.nodePort);
      }
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(svc) && !spec.healthCheckNodePort) spec.healthCheckNodePort = o.healthCheckNodePort;
}

/** dropTypeDependentFields: a type change clears what the old type had the server fill in, unless the user changed it. */
function dropTypeDependentFields(svc: Service, old: Service): void {
  const spec = svc.spec!, o = old.spec!;
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (spec.clusterIP === o.clusterIP && sameStrings(spec.clusterIPs, o.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(spec.ipFamilies, o.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === o.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(svc)) {
    const nps = (s?: ServicePort[]) => JSON.stringify((s ?? []).map((p) => p.nodePort ?? 0));
    if (nps(spec.ports) === nps(o.ports)) for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(svc) && spec.healthCheckNodePort === o.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (o.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) {
    delete spec.allocateLoadBalancerNodePorts;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === o.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

const validPort = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

function goServicePortKey(protocol: string, port: number): GoValue {
  return {
    goText: `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  };
}

/** The apiserver's Service strategy (upstream's svcStrategy + the REST storage's allocation): not the proxy's kernel rules (src/proxy/iptables/service-rules.ts). */
export class ServiceStrategy {
  readonly family: 'IPv4' | 'IPv6';

  constructor(
    readonly ips: ClusterIPAllocator,
    readonly nodePorts: NodePortAllocator,
  ) {
    this.family = ips.cidr.family === 4 ? 'IPv4' : 'IPv6';
  }

  prepareForCreate(svc: Service): void {
    setServiceDefaults(svc);
    svc.status = { loadBalancer: {} };
    normalizeClusterIPs(svc);
  }

  prepareForUpdate(svc: Service, old: Service): void {
    setServiceDefaults(svc);
    patchAllocatedValues(svc, old);
    normalizeClusterIPs(svc, old);
    dropTypeDependentFields(svc, old);
  }

  // ---- IP families (initIPFamilyFields, single-stack cluster) ----

  private clusterIPFieldErrors(svc: Service): FieldError[] {
    const spec = svc.spec!;
    const errs: FieldError[] = [];
    const ips = spec.clusterIPs ?? [];
    ips.forEach((ip, i) => {
      if (ip === 'None' && i === 0) return;
      if (!normalizeIP(ip)) errs.push(field.invalid(`spec.clusterIPs[${i}]`, ip, IP_HINT));
    });
    if (spec.clusterIP && ips.length && spec.clusterIP !== ips[0]) {
      errs.push(field.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
    }
    (spec.ipFamilies ?? []).forEach((f, i) => {
      if (f !== 'IPv4' && f !== 'IPv6') errs.push(field.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
      const ip = ips[i];
      if (ip && ip !== 'None' && normalizeIP(ip) && `IPv${ipFamily(ip)}` !== f) {
        errs.push(field.invalid(`spec.clusterIPs[${i}]`, ips, `expected an ${f} value as indicated by \`ipFamilies[${i}]\``));
      }
    });
    const pol = spec.ipFamilyPolicy;
    if (pol && !['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(pol)) {
      errs.push(field.notSupported('spec.ipFamilyPolicy', pol, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
    }
    return errs;
  }

  private initIPFamilyFields(svc: Service, old?: Service): void {
    const spec = svc.spec!;
    if (spec.type === 'ExternalName') return;
    if (!spec.ipFamilyPolicy) {
      if (old?.spec?.ipFamilyPolicy) spec.ipFamilyPolicy = old.spec.ipFamilyPolicy;
      else if (isHeadless(svc) && !Object.keys(spec.selector ?? {}).length) spec.ipFamilyPolicy = 'RequireDualStack';
      else spec.ipFamilyPolicy = 'SingleStack';
    }
    let errs = this.clusterIPFieldErrors(svc);
    if (errs.length) throw invalid(SERVICE, svc.metadata!.name!, errs);
    if (spec.ipFamilyPolicy === 'SingleStack') {
      if (spec.clusterIPs?.length === 2) errs.push(field.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
      if (spec.ipFamilies?.length === 2) errs.push(field.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    }
    (spec.clusterIPs ?? []).forEach((ip, i) => {
      if (ip === 'None' || i < (spec.ipFamilies?.length ?? 0)) return;
      const fam = `IPv${ipFamily(ip)}`;
      if (fam !== this.family) errs.push(field.invalid(`spec.clusterIPs[${i}]`, spec.clusterIPs!, `${fam} is not configured on this cluster`));
      else spec.ipFamilies = [...(spec.ipFamilies ?? []), fam];
    });
    if (errs.length) throw invalid(SERVICE, svc.metadata!.name!, errs);
    if (isHeadless(svc) && !Object.keys(spec.selector ?? {}).length) {
      // Headless and selectorless: upstream allows both families even on a single-stack cluster.
      if (!spec.ipFamilies?.length) spec.ipFamilies = [this.family];
      if (spec.ipFamilies.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') spec.ipFamilies.push(spec.ipFamilies[0] === 'IPv4' ? 'IPv6' : 'IPv4');
      return;
    }
    errs = [];
    if (spec.ipFamilyPolicy === 'RequireDualStack') errs.push(field.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
    (spec.ipFamilies ?? []).forEach((f, i) => {
      if (f !== this.family) errs.push(field.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    if (errs.length) throw invalid(SERVICE, svc.metadata!.name!, errs);
    if (!spec.ipFamilies?.length) spec.ipFamilies = [this.family];
  }

  // ---- allocation ----

  private allocClusterIP(svc: Service, op: AllocOp): void {
    const spec = svc.spec!;
    if (spec.type === 'ExternalName' || isHeadless(svc)) return;
    const want = spec.clusterIPs?.[0] ?? '';
    if (!want) {
      let ip: string;
      try {
        ip = this.ips.allocateNext();
      } catch (e) {
        throw internalError(`failed to allocate a serviceIP: ${(e as Error).message}`);
      }
      op.onRevert(() => this.ips.release(ip));
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      return;
    }
    try {
      this.ips.allocate(want);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalid(SERVICE, svc.metadata!.name!, [field.invalid('spec.clusterIPs', spec.clusterIPs!, `failed to allocate IP ${want}: ${e.message}`)]);
    }
    op.onRevert(() => this.ips.release(want));
    spec.clusterIP = want;
  }

  private reservePort(svc: Service, op: AllocOp, port: number, path: string): void {
    try {
      this.nodePorts.allocate(port);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalid(SERVICE, svc.metadata!.name!, [field.invalid(path, port, e.message)]);
    }
    op.onRevert(() => this.nodePorts.release(port));
  }

  private nextPort(op: AllocOp, what = 'a nodePort'): number {
    let port: number;
    try {
      port = this.nodePorts.allocateNext();
    } catch (e) {
      throw internalError(`failed to allocate ${what}: ${(e as Error).message}`);
    }
    op.onRevert(() => this.nodePorts.release(port));
    return port;
  }

  /** initNodePorts: the same service port number on TCP and UDP shares one nodePort. */
  private initNodePorts(svc: Service, op: AllocOp): void {
    const ports = svc.spec!.ports ?? [];
    const byPort = new Map<number, number>();
    ports.forEach((p, i) => {
      if (!p.nodePort && !shouldAllocateNodePorts(svc)) return;
      const path = `spec.ports[${i}].nodePort`;
      const have = byPort.get(p.port);
      if (have === undefined) {
        const requested = p.nodePort || ports.slice(i).find((q) => q.port === p.port && q.nodePort)?.nodePort || 0;
        const np = requested ? (this.reservePort(svc, op, requested, path), requested) : this.nextPort(op);
        p.nodePort = np;
        byPort.set(p.port, np);
      } else if (p.nodePort !== have) {
        if (!p.nodePort) p.nodePort = have;
        else this.reservePort(svc, op, p.nodePort, path);
      }
    });
  }

  private allocHealthCheckNodePort(svc: Service, op: AllocOp): void {
    const spec = svc.spec!;
    if (spec.healthCheckNodePort) {
      try {
        this.nodePorts.allocate(spec.healthCheckNodePort);
      } catch (e) {
        throw internalError(`failed to allocate requested HealthCheck NodePort ${spec.healthCheckNodePort}: ${(e as Error).message}`);
      }
      const p = spec.healthCheckNodePort;
      op.onRevert(() => this.nodePorts.release(p));
    } else spec.healthCheckNodePort = this.nextPort(op, 'a HealthCheck NodePort');
  }

  /** BeginCreate: IP families, then the clusterIP, then nodePorts and the health-check nodePort. */
  beginCreate(svc: Service): Txn {
    const op = new AllocOp();
    try {
      this.initIPFamilyFields(svc);
      this.allocClusterIP(svc, op);
      if (needsNodePort(svc)) this.initNodePorts(svc, op);
      if (needsHealthCheck(svc)) this.allocHealthCheckNodePort(svc, op);
    } catch (e) {
      op.revert();
      throw e;
    }
    return op;
  }

  beginUpdate(svc: Service, old: Service): Txn {
    const op = new AllocOp();
    try {
      this.initIPFamilyFields(svc, old);
      // ExternalName <-> ClusterIP types allocate or release; otherwise the clusterIP is immutable (validation).
      if (old.spec?.type === 'ExternalName' && svc.spec?.type !== 'ExternalName') this.allocClusterIP(svc, op);
      else if (old.spec?.type !== 'ExternalName' && svc.spec?.type === 'ExternalName' && !isHeadless(old)) {
        for (const ip of old.spec?.clusterIPs ?? []) op.onCommit(() => this.ips.release(ip));
      }
      const oldNodePorts = (old.spec?.ports ?? []).map((p) => p.nodePort).filter((n): n is number => Boolean(n));
      if (needsNodePort(old) && !needsNodePort(svc)) for (const n of oldNodePorts) op.onCommit(() => this.nodePorts.release(n));
      if (needsNodePort(svc)) this.updateNodePorts(svc, oldNodePorts, op);
      const hcOld = needsHealthCheck(old), hcNew = needsHealthCheck(svc);
      if (!hcOld && hcNew) this.allocHealthCheckNodePort(svc, op);
      else if (hcOld && !hcNew && old.spec?.healthCheckNodePort) {
        const p = old.spec.healthCheckNodePort;
        op.onCommit(() => this.nodePorts.release(p));
      }
    } catch (e) {
      op.revert();
      throw e;
    }
    return op;
  }

  private updateNodePorts(svc: Service, oldNodePorts: number[], op: AllocOp): void {
    const reserved = new Set<number>();
    (svc.spec!.ports ?? []).forEach((p, i) => {
      if (!p.nodePort && !shouldAllocateNodePorts(svc)) return;
      if (p.nodePort) {
        if (!oldNodePorts.includes(p.nodePort) && !reserved.has(p.nodePort)) {
          this.reservePort(svc, op, p.nodePort, `spec.ports[${i}].nodePort`);
          reserved.add(p.nodePort);
        }
      } else p.nodePort = this.nextPort(op);
    });
    const kept = new Set((svc.spec!.ports ?? []).map((p) => p.nodePort));
    for (const n of oldNodePorts) if (!kept.has(n)) op.onCommit(() => this.nodePorts.release(n));
  }

  /** Frees what a deleted Service held. */
  release(svc: Service): void {
    if (needsClusterIP(svc) && !isHeadless(svc)) for (const ip of svc.spec?.clusterIPs ?? []) this.ips.release(ip);
    for (const p of svc.spec?.ports ?? []) if (p.nodePort) this.nodePorts.release(p.nodePort);
    if (svc.spec?.healthCheckNodePort) this.nodePorts.release(svc.spec.healthCheckNodePort);
  }

  /** Marks a stored Service's allocations taken (server start). Returns what could not be restored. */
  restore(svc: Service): string[] {
    const problems: string[] = [];
    const take = (what: string, f: () => void) => {
      try {
        f();
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`);
      }
    };
    if (needsClusterIP(svc) && !isHeadless(svc)) for (const ip of svc.spec?.clusterIPs ?? []) take(`clusterIP ${ip}`, () => this.ips.allocate(ip));
    const seen = new Set<number>();
    for (const p of svc.spec?.ports ?? []) {
      if (p.nodePort && !seen.has(p.nodePort)) take(`nodePort ${p.nodePort}`, () => this.nodePorts.allocate(p.nodePort!));
      if (p.nodePort) seen.add(p.nodePort);
    }
    if (svc.spec?.healthCheckNodePort) take(`healthCheckNodePort ${svc.spec.healthCheckNodePort}`, () => this.nodePorts.allocate(svc.spec!.healthCheckNodePort!));
    return problems;
  }

  // ---- validation (ValidateService, ValidateServiceUpdate; metadata.name is the registry's) ----

  validate(svc: Service): FieldError[] {
    const errs: FieldError[] = [];
    const spec = svc.spec ?? {};
    const type = spec.type ?? '';
    const ports = spec.ports ?? [];
    if (!ports.length && !isHeadless(svc) && type !== 'ExternalName') errs.push(field.required('spec.ports'));
    if (type === 'LoadBalancer' && isHeadless(svc)) errs.push(field.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
    if (type === 'NodePort' && isHeadless(svc)) errs.push(field.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
    if (type === 'ExternalName') {
      if (spec.clusterIPs?.length) errs.push(field.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (spec.ipFamilies?.length) errs.push(field.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy) errs.push(field.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      if (!spec.externalName?.replace(/\.$/, '')) errs.push(field.required('spec.externalName'));
    }
    const names = new Set<string>();
    ports.forEach((p, i) => {
      const at = `spec.ports[${i}]`;
      if (ports.length > 1 && !p.name) errs.push(field.required(`${at}.name`));
      else if (p.name) {
        const e = dns1123LabelError(p.name);
        if (e) errs.push(field.invalid(`${at}.name`, p.name, e));
        if (names.has(p.name)) errs.push(field.duplicate(`${at}.name`, p.name));
        names.add(p.name);
      }
      if (!validPort(p.port)) errs.push(field.invalid(`${at}.port`, p.port ?? 0, PORT_RANGE_MSG));
      if (!p.protocol) errs.push(field.required(`${at}.protocol`));
      else if (!['SCTP', 'TCP', 'UDP'].includes(p.protocol)) errs.push(field.notSupported(`${at}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
      if (typeof p.targetPort === 'number') {
        if (!validPort(p.targetPort)) errs.push(field.invalid(`${at}.targetPort`, p.targetPort, PORT_RANGE_MSG));
      } else if (typeof p.targetPort === 'string') {
        for (const m of portNameErrors(p.targetPort)) errs.push(field.invalid(`${at}.targetPort`, p.targetPort, m));
      }
    });
    const aff = spec.sessionAffinity;
    if (!aff) errs.push(field.required('spec.sessionAffinity'));
    else if (aff !== 'ClientIP' && aff !== 'None') errs.push(field.notSupported('spec.sessionAffinity', aff, ['ClientIP', 'None']));
    if (aff === 'ClientIP') {
      const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
      if (t === undefined || t <= 0 || t > 86400) {
        errs.push(field.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t ?? 0, 'must be greater than 0 and less than 86400'));
      }
    } else if (aff === 'None' && spec.sessionAffinityConfig) {
      errs.push(field.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
    }
    (spec.externalIPs ?? []).forEach((ip, i) => {
      if (!normalizeIP(ip)) errs.push(field.invalid(`spec.externalIPs[${i}]`, ip, IP_HINT));
    });
    if (!type) errs.push(field.required('spec.type'));
    else if (!['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'].includes(type)) {
      errs.push(field.notSupported('spec.type', type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
    }
    if (type === 'ClusterIP') {
      ports.forEach((p, i) => {
        if (p.nodePort) errs.push(field.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
      });
    }
    const nodePorts = new Set<string>();
    const portKeys = new Set<string>();
    ports.forEach((p, i) => {
      if (p.nodePort) {
        const k = `${p.protocol}/${p.nodePort}`;
        if (nodePorts.has(k)) errs.push(field.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
        nodePorts.add(k);
      }
      const k = `${p.protocol}/${p.port}`;
      if (portKeys.has(k)) errs.push(field.duplicate(`spec.ports[${i}]`, goServicePortKey(p.protocol ?? '', p.port)));
      portKeys.add(k);
    });
    if (spec.loadBalancerSourceRanges?.length) {
      // "LoadBalancerSourceRanges" with a capital L: upstream's field path, kept.
      if (type !== 'LoadBalancer') errs.push(field.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
      spec.loadBalancerSourceRanges.forEach((c, i) => {
        try {
          parseCidr(c.trim(), true);
        } catch {
          errs.push(field.invalid(`spec.LoadBalancerSourceRanges[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
        }
      });
    }
    if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer') {
      errs.push(field.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
    }
    if (!externallyAccessible(svc)) {
      if (spec.externalTrafficPolicy) errs.push(field.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    } else if (!spec.externalTrafficPolicy) errs.push(field.required('spec.externalTrafficPolicy'));
    else if (!['Cluster', 'Local'].includes(spec.externalTrafficPolicy)) {
      errs.push(field.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
    }
    if (!needsHealthCheck(svc)) {
      if (spec.healthCheckNodePort) errs.push(field.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    } else if (!spec.healthCheckNodePort) errs.push(field.required('spec.healthCheckNodePort'));
    if (!spec.internalTrafficPolicy && type !== 'ExternalName') errs.push(field.required('spec.internalTrafficPolicy'));
    if (spec.internalTrafficPolicy && !['Cluster', 'Local'].includes(spec.internalTrafficPolicy)) {
      errs.push(field.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
    }
    return errs;
  }

  validateUpdate(svc: Service, old: Service): FieldError[] {
    return [...this.clusterIPsUpdateErrors(svc, old), ...this.healthCheckUpdateErrors(svc, old), ...this.validate(svc)];
  }

  /** validateUpgradeDowngradeClusterIPs (single-stack subset): the primary clusterIP is immutable. */
  private clusterIPsUpdateErrors(svc: Service, old: Service): FieldError[] {
    if (svc.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return [];
    if (isHeadless(svc) && isHeadless(old)) return [];
    const now = svc.spec?.clusterIPs ?? [];
    const was = old.spec?.clusterIPs ?? [];
    const shown: GoValue = svc.spec?.clusterIPs ? now : { goText: '[]string(nil)' };
    if (was.length > now.length && now.length === 0) return [field.invalid('spec.clusterIPs[0]', shown, 'primary clusterIP can not be unset')];
    const errs: FieldError[] = [];
    was.forEach((ip, i) => {
      if (i < now.length && now[i] !== ip) errs.push(field.invalid(`spec.clusterIPs[${i}]`, shown, 'may not change once set'));
    });
    return errs;
  }

  private healthCheckUpdateErrors(svc: Service, old: Service): FieldError[] {
    if (needsHealthCheck(old) && needsHealthCheck(svc) && svc.spec?.healthCheckNodePort !== old.spec?.healthCheckNodePort) {
      return [field.forbidden('spec.healthCheckNodePort', 'field is immutable')];
    }
    return [];
  }

  /** True when `ip` is in this cluster's service range (for callers that want to explain a failure). */
  inRange(ip: string): boolean {
    return cidrContains(this.ips.cidr, ip);
  }
}
