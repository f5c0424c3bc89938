// The rules of one service port: the body of upstream's syncProxyRules loop
// (pkg/proxy/iptables/proxier.go), in the same order, with the same comments.
import type { EndpointInfo, ServicePortInfo } from '../model.ts';
import { categorizeEndpoints } from '../topology.ts';
import { usesClusterEndpoints, usesLocalEndpoints } from '../service-ports.ts';
import { trafficTargets, type TrafficTarget } from '../traffic-policy.ts';
import { endpointChainName, servicePortChainNames } from '../chain-names.ts';
import { cidrContains, parseCidr } from '../../util/cidr.ts';
import { probability } from './probability.ts';
import type { TableBuffer } from './ruleset.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** nfacct counters kube-proxy creates (pkg/proxy/metrics). */
export const NFACCT_CT_INVALID = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS = 'localhost_nps_accepted_pkts';

/** Everything the per-service writer needs that does not change between services. */
export interface SyncContext {
  nodeName: string;
  /** Primary node IPv4 (LoadBalancerSourceRanges containing it also admit the LB IPs as sources). */
  nodeIP: string;
  masqueradeAll: boolean;
  /** `-s <cidr>` / `! -s <cidr>` matches, or undefined for upstream's no-op detector. */
  localDetector?: { ifLocal: string[]; ifNotLocal: string[] };
  localhostNodePorts: boolean;
  hasNfacct: boolean;
  largeClusterMode: boolean;
  filter: TableBuffer;
  /** nat KUBE-SERVICES / KUBE-NODEPORTS rules: always written. */
  nat: TableBuffer;
  activeNatChains: Set<string>;
  noLocalEndpoints: { internal: number; external: number };
}

/** In large-cluster mode per-endpoint comments are dropped to shrink the payload (~40%). */
function serviceComment(ctx: SyncContext, comment: string): string[] {
  return ctx.largeClusterMode ? [] : ['-m', 'comment', '--comment', comment];
}

/**
 * Writes the rules of `svc`. `natSvc` receives its SVC/SVL/EXT/FW/SEP chains: the real nat
 * buffer, or a counting-only one when a partial sync leaves the service's chains untouched.
 */
export function writeServicePort(ctx: SyncContext, svc: ServicePortInfo, allEndpoints: EndpointInfo[], natSvc: TableBuffer): void {
  const protocol = svc.protocol.toLowerCase();
  const name = svc.key;
  const port = String(svc.port);
  const categorized = categorizeEndpoints(allEndpoints, svc, ctx.nodeName);
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints: hasEndpoints } = categorized;

  const {
    clusterPolicy: clusterPolicyChain, localPolicy: localPolicyChain, external: externalTrafficChain, firewall: fwChain,
  } = servicePortChainNames(name, protocol);
  // Upstream keeps each endpoint's chain name on the endpoint (endpointInfo.ChainName): one lookup per endpoint.
  const epChains = new Map<EndpointInfo, string>();
  const epChain = (ep: EndpointInfo) => {
    let c = epChains.get(ep);
    if (c === undefined) epChains.set(ep, (c = endpointChainName(name, protocol, ep.endpoint)));
    return c;
  };
  const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(svc);

  const { internal, external, hasInternalEndpoints, hasExternalEndpoints } = trafficTargets(svc, categorized);
  const policyChain = (t: TrafficTarget) => (t === 'local' ? localPolicyChain : clusterPolicyChain);
  const internalTrafficChain = policyChain(internal);
  const externalPolicyChain = policyChain(external);
  // The EXT chain is needed even without external endpoints: it short-circuits local traffic.
  const usesExternalTrafficChain = hasEndpoints && svc.externallyAccessible;
  const usesFWChain = hasEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

  // What the filter table does with traffic that reaches no endpoints (read only then).
  const filterTarget = (t: TrafficTarget) => (t === 'reject' ? 'REJECT' : 'DROP');
  const filterComment = (t: TrafficTarget) => (t === 'reject' ? `${name} has no endpoints` : `${name} has no local endpoints`);
  const internalFilterTarget = filterTarget(internal);
  const internalFilterComment = filterComment(internal);
  const externalFilterTarget = filterTarget(external);
  const externalFilterComment = filterComment(external);
  if (internal === 'drop') ctx.noLocalEndpoints.internal++;
  if (external === 'drop') ctx.noLocalEndpoints.external++;

  const { filter, nat } = ctx;
  const proto = ['-m', protocol, '-p', protocol];

  // Capture the clusterIP.
  if (hasInternalEndpoints) {
    nat.rule(KUBE_SERVICES, '-m', 'comment', '--comment', `${name} cluster IP`, proto, '-d', svc.clusterIP, '--dport', port, '-j', internalTrafficChain);
  } else {
    filter.rule(KUBE_SERVICES, '-m', 'comment', '--comment', internalFilterComment, proto, '-d', svc.clusterIP, '--dport', port, '-j', internalFilterTarget);
  }

  // Capture externalIPs.
  for (const ip of svc.externalIPs) {
    if (hasEndpoints) {
      nat.rule(KUBE_SERVICES, '-m', 'comment', '--comment', `${name} external IP`, proto, '-d', ip, '--dport', port, '-j', externalTrafficChain);
    }
    if (!hasExternalEndpoints) {
      filter.rule(KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, proto, '-d', ip, '--dport', port, '-j', externalFilterTarget);
    }
  }

  // Capture load-balancer ingress.
  for (const ip of svc.loadBalancerVIPs) {
    if (hasEndpoints) {
      nat.rule(KUBE_SERVICES, '-m', 'comment', '--comment', `${name} loadbalancer IP`, proto, '-d', ip, '--dport', port, '-j', loadBalancerTrafficChain);
    }
    if (usesFWChain) {
      filter.rule(KUBE_PROXY_FIREWALL, '-m', 'comment', '--comment', `${name} traffic not accepted by ${fwChain}`, proto, '-d', ip, '--dport', port, '-j', 'DROP');
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of svc.loadBalancerVIPs) {
      filter.rule(KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, proto, '-d', ip, '--dport', port, '-j', externalFilterTarget);
    }
  }

  // Capture nodeports. (loadBalancerSourceRanges never applied to NodePorts, and can't now.)
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (hasEndpoints) {
      if (ctx.localhostNodePorts && ctx.hasNfacct) {
        // Counts localhost NodePort use (route_localnet is a security risk upstream wants to retire).
        nat.rule(KUBE_NODEPORTS, '-m', 'comment', '--comment', name, proto, '-d', '127.0.0.0/8', '--dport', nodePort,
          '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS, '-j', externalTrafficChain);
      }
      nat.rule(KUBE_NODEPORTS, '-m', 'comment', '--comment', name, proto, '--dport', nodePort, '-j', externalTrafficChain);
    }
    if (!hasExternalEndpoints) {
      filter.rule(KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, '-m', 'addrtype', '--dst-type', 'LOCAL',
        proto, '--dport', nodePort, '-j', externalFilterTarget);
    }
  }

  // Health check node ports are accepted whether or not this node has local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    filter.rule(KUBE_NODEPORTS, '-m', 'comment', '--comment', `${name} health check node port`, '-m', 'tcp', '-p', 'tcp',
      '--dport', String(svc.healthCheckNodePort), '-j', 'ACCEPT');
  }

  // From here on: the service's own chains (skipped, but counted, by a partial sync).
  if (hasInternalEndpoints) {
    const args = ['-m', 'comment', '--comment', `${name} cluster IP`, ...proto, '-d', svc.clusterIP, '--dport', port];
    if (ctx.masqueradeAll) {
      natSvc.rule(internalTrafficChain, args, '-j', KUBE_MARK_MASQ);
    } else if (ctx.localDetector) {
      // Off-cluster traffic to a service VIP (e.g. a static route to the service range) may
      // bounce off-node, so it is masqueraded.
      natSvc.rule(internalTrafficChain, args, ctx.localDetector.ifNotLocal, '-j', KUBE_MARK_MASQ);
    }
  }

  if (usesExternalTrafficChain) {
    natSvc.chain(externalTrafficChain);
    ctx.activeNatChains.add(externalTrafficChain);
    if (!svc.externalPolicyLocal) {
      // Non-local endpoints may be on another node: masquerade so replies come back here.
      natSvc.rule(externalTrafficChain, '-m', 'comment', '--comment', `masquerade traffic for ${name} external destinations`, '-j', KUBE_MARK_MASQ);
    } else {
      if (ctx.localDetector) {
        // Pod -> external IP acts like a trip out to the LB and back: no traffic policy applies.
        natSvc.rule(externalTrafficChain, '-m', 'comment', '--comment', `pod traffic for ${name} external destinations`,
          ctx.localDetector.ifLocal, '-j', clusterPolicyChain);
      }
      // The host itself picks the LB IP as source, so it still needs masquerading.
      natSvc.rule(externalTrafficChain, '-m', 'comment', '--comment', `masquerade LOCAL traffic for ${name} external destinations`,
        '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ);
      natSvc.rule(externalTrafficChain, '-m', 'comment', '--comment', `route LOCAL traffic for ${name} external destinations`,
        '-m', 'addrtype', '--src-type', 'LOCAL', '-j', clusterPolicyChain);
    }
    if (hasExternalEndpoints) natSvc.rule(externalTrafficChain, '-j', externalPolicyChain);
  }

  if (usesFWChain) {
    natSvc.chain(fwChain);
    ctx.activeNatChains.add(fwChain);
    const args = ['-m', 'comment', '--comment', `${name} loadbalancer IP`];
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      natSvc.rule(fwChain, args, '-s', cidr, '-j', externalTrafficChain);
      if (ctx.nodeIP && cidrContains(parseCidr(cidr, true), ctx.nodeIP)) allowFromNode = true;
    }
    // A node reaching its own VIP-style LB IP arrives with the LB IP as source.
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs) natSvc.rule(fwChain, args, '-s', ip, '-j', externalTrafficChain);
    }
    // Whatever falls off the end was not DNATed and meets the KUBE-PROXY-FIREWALL DROP.
    natSvc.rule(fwChain, '-m', 'comment', '--comment', `other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`);
  }

  if (usesClusterPolicyChain) {
    natSvc.chain(clusterPolicyChain);
    ctx.activeNatChains.add(clusterPolicyChain);
    writeServiceToEndpointRules(ctx, natSvc, svc, clusterPolicyChain, clusterEndpoints, epChain);
  }
  if (usesLocalPolicyChain) {
    natSvc.chain(localPolicyChain);
    ctx.activeNatChains.add(localPolicyChain);
    writeServiceToEndpointRules(ctx, natSvc, svc, localPolicyChain, localEndpoints, epChain);
  }

  for (const ep of allReachableEndpoints) {
    const chain = epChain(ep);
    natSvc.chain(chain);
    ctx.activeNatChains.add(chain);
    const base = serviceComment(ctx, name);
    // Hairpin: a pod reaching itself through the service must be SNATed or the reply bypasses conntrack.
    natSvc.rule(chain, base, '-s', ep.ip, '-j', KUBE_MARK_MASQ);
    const affinity = svc.sessionAffinityClientIP ? ['-m', 'recent', '--name', chain, '--set'] : [];
    natSvc.rule(chain, base, affinity, proto, '-j', 'DNAT', '--to-destination', ep.endpoint);
  }
}

/** Affinity checks first, then the 1/n, 1/(n-1), ... cascade; the last rule always matches. */
function writeServiceToEndpointRules(
  ctx: SyncContext, nat: TableBuffer, svc: ServicePortInfo, chain: string, endpoints: EndpointInfo[], chainOf: (ep: EndpointInfo) => string,
): void {
  if (svc.sessionAffinityClientIP) {
    for (const ep of endpoints) {
      const epChain = chainOf(ep);
      nat.rule(chain, serviceComment(ctx, `${svc.key} -> ${ep.endpoint}`),
        '-m', 'recent', '--name', epChain, '--rcheck', '--seconds', String(svc.stickyMaxAgeSeconds), '--reap', '-j', epChain);
    }
  }
  endpoints.forEach((ep, i) => {
    const epChain = chainOf(ep);
    const random = i < endpoints.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(endpoints.length - i)] : [];
    nat.rule(chain, serviceComment(ctx, `${svc.key} -> ${ep.endpoint}`), random, '-j', epChain);
  });
}
