// Service -> service ports, as upstream's ServiceChangeTracker builds them
// (pkg/proxy/servicechangetracker.go serviceToServiceMap, serviceport.go
// newBaseServiceInfo, pkg/api/v1/service helpers). IPv4 family only.
import type { Service, ServicePort, ServiceSpec } from '../k8s/objects.ts';
import type { LoadBalancerIngress } from 'kubernetes-types/core/v1.js'; // not re-exported by objects.ts
import { normalizeIP, ipFamily, parseCidr, cidrString } from '../util/cidr.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME } from '../k8s/labels.ts';
import { servicePortKey, type Protocol, type ServicePortInfo } from './model.ts';

export const DEFAULT_STICKY_SECONDS = 10800;

/**
 * Upstream proxyutil.ShouldSkipService plus the informer label selector: kube-proxy's
 * informers skip objects carrying the service-proxy-name or headless label (cmd/kube-proxy server.go).
 */
export function shouldSkipService(svc: Service): boolean {
  const labels = svc.metadata?.labels ?? {};
  if (LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) return true;
  if (svc.spec?.type === 'ExternalName') return true;
  const ip = svc.spec?.clusterIP ?? '';
  return ip === '' || ip === 'None';
}

/** Upstream GetClusterIPByFamily for IPv4: spec.clusterIPs by spec.ipFamilies, else spec.clusterIP. */
export function clusterIPv4(svc: Service): string {
  const spec: ServiceSpec = svc.spec ?? {};
  const families = spec.ipFamilies ?? [];
  if (families.length === 0) {
    const ip = spec.clusterIP ?? '';
    if (ip === '' || ip === 'None') return '';
    return ipFamily(ip) === 4 ? normalizeIP(ip) : '';
  }
  const i = families.indexOf('IPv4');
  const ip = i >= 0 ? spec.clusterIPs?.[i] ?? '' : '';
  return ip ? normalizeIP(ip) : '';
}

/** apiservice.ExternallyAccessible: the Service type (not the port) exposes it outside the cluster. */
function serviceExternallyAccessible(svc: Service): boolean {
  const type = svc.spec?.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

function ipv4List(values: readonly string[] | undefined): string[] {
  return (values ?? []).map((v) => normalizeIP(v)).filter((ip) => ip !== '' && ipFamily(ip) === 4);
}

/** LoadBalancerSourceRanges: validation lets whitespace through, so trim; Go's ParseCIDR masks host bits. */
function ipv4Cidrs(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    try {
      const c = parseCidr(v.trim(), true);
      if (c.family === 4) out.push(cidrString(c));
    } catch {
      // upstream drops unparsable ranges the same way
    }
  }
  return out;
}

/** Upstream IsVIPMode: ingress entries with ipMode "Proxy" are not DNATed by kube-proxy. */
function loadBalancerVIPs(svc: Service): string[] {
  const ingress: LoadBalancerIngress[] = svc.status?.loadBalancer?.ingress ?? [];
  return ipv4List(ingress.filter((i) => i.ip && (i.ipMode === undefined || i.ipMode === 'VIP')).map((i) => i.ip!));
}

/** Service -> its service ports, as upstream's ServiceChangeTracker builds them (IPv4 family). */
export function buildServicePorts(svc: Service): ServicePortInfo[] {
  if (shouldSkipService(svc)) return [];
  const clusterIP = clusterIPv4(svc);
  if (!clusterIP) return [];

  const spec: ServiceSpec = svc.spec ?? {};
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const externalPolicyLocal = serviceExternallyAccessible(svc) && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const sessionAffinityClientIP = spec.sessionAffinity === 'ClientIP';
  const stickyMaxAgeSeconds = sessionAffinityClientIP
    ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_SECONDS
    : 0;
  const externalIPs = ipv4List(spec.externalIPs);
  const lbVIPs = loadBalancerVIPs(svc);
  const sourceRanges = ipv4Cidrs(spec.loadBalancerSourceRanges);
  // apiservice.NeedsHealthCheck: only LoadBalancer services with eTP=Local.
  const healthCheckNodePort = spec.type === 'LoadBalancer' && externalPolicyLocal ? spec.healthCheckNodePort ?? 0 : 0;

  return (spec.ports ?? []).map((p: ServicePort) => {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const spn = { namespace, name, port: p.name ?? '', protocol };
    const nodePort = p.nodePort ?? 0;
    return {
      name: spn,
      key: servicePortKey(spn),
      clusterIP,
      port: p.port,
      protocol,
      nodePort,
      externalIPs: [...externalIPs],
      loadBalancerVIPs: [...lbVIPs],
      loadBalancerSourceRanges: [...sourceRanges],
      sessionAffinityClientIP,
      stickyMaxAgeSeconds,
      externalPolicyLocal,
      internalPolicyLocal,
      healthCheckNodePort,
      externallyAccessible: nodePort !== 0 || lbVIPs.length > 0 || externalIPs.length > 0,
    };
  });
}

/** Upstream UsesClusterEndpoints: iTP=Cluster, or any external traffic (eTP=Local short-circuits to it). */
export function usesClusterEndpoints(svc: ServicePortInfo): boolean {
  return !svc.internalPolicyLocal || svc.externallyAccessible;
}

/** Upstream UsesLocalEndpoints. */
export function usesLocalEndpoints(svc: ServicePortInfo): boolean {
  return svc.internalPolicyLocal || (svc.externalPolicyLocal && svc.externallyAccessible);
}
