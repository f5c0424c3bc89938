// Where a service port's traffic goes under its traffic policies (upstream's
// syncProxyRules, shared by the iptables and nftables proxiers): one of the
// service's two policy chains, or, when that policy has no endpoints to use,
// a drop or reject. Each backend maps the kind to its own chain or verdict.
import type { CategorizedEndpoints, ServicePortInfo } from './model.ts';

/**
 * - `cluster` / `local`: the cluster-policy or local-policy chain;
 * - `reject`: the service has no endpoints at all;
 * - `drop`: it has endpoints, but none on this node and the policy is Local.
 */
export type TrafficTarget = 'cluster' | 'local' | 'drop' | 'reject';

export interface TrafficTargets {
  /** ClusterIP traffic (internalTrafficPolicy). */
  internal: TrafficTarget;
  /** ExternalIP, LoadBalancer and NodePort traffic (externalTrafficPolicy). */
  external: TrafficTarget;
  /** Upstream's names: the target is a policy chain, not a drop or reject. */
  hasInternalEndpoints: boolean;
  hasExternalEndpoints: boolean;
}

export function trafficTargets(
  svc: Pick<ServicePortInfo, 'internalPolicyLocal' | 'externalPolicyLocal'>,
  endpoints: Pick<CategorizedEndpoints, 'hasAnyEndpoints' | 'localEndpoints'>,
): TrafficTargets {
  const target = (policyLocal: boolean): TrafficTarget => {
    if (!endpoints.hasAnyEndpoints) return 'reject';
    if (!policyLocal) return 'cluster';
    return endpoints.localEndpoints.length > 0 ? 'local' : 'drop';
  };
  const internal = target(svc.internalPolicyLocal);
  const external = target(svc.externalPolicyLocal);
  return { internal, external, hasInternalEndpoints: reachesEndpoints(internal), hasExternalEndpoints: reachesEndpoints(external) };
}

const reachesEndpoints = (target: TrafficTarget) => target === 'cluster' || target === 'local';
