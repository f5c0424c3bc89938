// Which endpoints of a service port this node sends each kind of traffic to:
// upstream's CategorizeEndpoints (pkg/proxy/topology.go), without topology hints.
import type { CategorizedEndpoints, EndpointInfo, ServicePortInfo } from './model.ts';
import { usesClusterEndpoints, usesLocalEndpoints } from './service-ports.ts';

/**
 * Ready endpoints, or if none, the serving+terminating ones — decided separately for
 * the Cluster and the Local set.
 */
export function categorizeEndpoints(endpoints: EndpointInfo[], svc: ServicePortInfo, nodeName = ''): CategorizedEndpoints {
  // "Local" means the endpoint's nodeName is this node; fall back to the flag computed at build time.
  const isLocal = (ep: EndpointInfo) => (nodeName ? ep.nodeName === nodeName : ep.isLocal);
  const result: CategorizedEndpoints = { clusterEndpoints: [], localEndpoints: [], allReachableEndpoints: [], hasAnyEndpoints: false };
  if (endpoints.length === 0) return result;
  const fallback = (ep: EndpointInfo) => ep.serving && ep.terminating;

  if (usesClusterEndpoints(svc)) {
    let cluster = endpoints.filter((ep) => ep.ready);
    if (cluster.length === 0) cluster = endpoints.filter(fallback);
    result.clusterEndpoints = cluster;
    result.hasAnyEndpoints = cluster.length > 0;
  }
  if (!usesLocalEndpoints(svc)) {
    result.allReachableEndpoints = result.clusterEndpoints;
    return result;
  }

  let localReady = false;
  let localFallback = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      result.hasAnyEndpoints = true;
      if (isLocal(ep)) localReady = true;
    } else if (fallback(ep)) {
      result.hasAnyEndpoints = true;
      if (isLocal(ep)) localFallback = true;
    }
  }
  if (localReady) result.localEndpoints = endpoints.filter((ep) => isLocal(ep) && ep.ready);
  else if (localFallback) result.localEndpoints = endpoints.filter((ep) => isLocal(ep) && fallback(ep));

  if (!usesClusterEndpoints(svc)) {
    result.allReachableEndpoints = result.localEndpoints;
  } else if (!localFallback || localReady) {
    // Local holds only ready endpoints, all of which are in the cluster set already.
    result.allReachableEndpoints = result.clusterEndpoints;
  } else {
    // Local may hold terminating endpoints the cluster set lacks: take the union, in endpoint order.
    const chosen = new Set([...result.clusterEndpoints, ...result.localEndpoints]);
    result.allReachableEndpoints = endpoints.filter((ep) => chosen.has(ep));
  }
  return result;
}
