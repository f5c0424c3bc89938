// The userspace proxier's iptables rules (kube-proxy 1.25, pkg/proxy/userspace/
// proxier.go): "portals" that redirect a service VIP:port to the proxy's own
// listening port on the node. Upstream added them one at a time with EnsureRule;
// here they are one restore payload with the same rule text, in the order
// openPortal() appends them.
import { normalizeIP } from '../../util/cidr.ts';
import type { ProxySettings, ProxyState, ServicePortInfo } from '../model.ts';
import type { JumpRule } from '../jump-rules.ts';

export const KUBE_PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
export const KUBE_PORTALS_HOST = 'KUBE-PORTALS-HOST';
export const KUBE_NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
export const KUBE_NODEPORT_HOST = 'KUBE-NODEPORT-HOST';
export const KUBE_NODEPORT_NON_LOCAL = 'KUBE-NODEPORT-NON-LOCAL';

const PORTALS_COMMENT = 'handle ClusterIPs; NOTE: this must be before the NodePort rules';
const NODEPORTS_COMMENT = 'handle service NodePorts; NOTE: this must be the last rule in the chain';
const LOCAL = ['-m', 'addrtype', '--dst-type', 'LOCAL'];

/**
 * iptablesInit(): portal jumps are prepended so they run before anything else;
 * the NodePort jumps match broadly (any local address) and are appended after them.
 */
export const USERSPACE_JUMPS: readonly JumpRule[] = [
  { table: 'nat', from: 'PREROUTING', to: KUBE_PORTALS_CONTAINER, comment: PORTALS_COMMENT, position: 'prepend' },
  { table: 'nat', from: 'OUTPUT', to: KUBE_PORTALS_HOST, comment: PORTALS_COMMENT, position: 'prepend' },
  { table: 'nat', from: 'PREROUTING', to: KUBE_NODEPORT_CONTAINER, match: LOCAL, comment: NODEPORTS_COMMENT, position: 'append' },
  { table: 'nat', from: 'OUTPUT', to: KUBE_NODEPORT_HOST, match: LOCAL, comment: NODEPORTS_COMMENT, position: 'append' },
  { table: 'filter', from: 'INPUT', to: KUBE_NODEPORT_NON_LOCAL, comment: 'Ensure that non-local NodePort traffic can flow', position: 'prepend' },
];

export const USERSPACE_NAT_CHAINS = [KUBE_PORTALS_CONTAINER, KUBE_PORTALS_HOST, KUBE_NODEPORT_CONTAINER, KUBE_NODEPORT_HOST];
export const USERSPACE_FILTER_CHAINS = [KUBE_NODEPORT_NON_LOCAL];

const isAny = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';

/** iptablesCommonPortalArgs: comment, protocol, port, then the optional address matches. */
function commonArgs(svc: ServicePortInfo, destIP: string | undefined, physdev: boolean, dstLocal: boolean, destPort: number): string[] {
  const proto = svc.protocol.toLowerCase();
  const args = ['-m', 'comment', '--comment', svc.key, '-p', proto, '-m', proto, '--dport', String(destPort)];
  if (destIP) args.push('-d', `${destIP}/32`);
  if (physdev) args.push('-m', 'physdev', '!', '--physdev-is-in');
  if (dstLocal) args.push(...LOCAL);
  return args;
}

/**
 * Renders the portal rules for the proxy ports in `ports` (service port key ->
 * listening port). `bindAddress` is kube-proxy's --bind-address: 0.0.0.0 makes
 * container traffic REDIRECT (to the incoming interface's address), a specific
 * IP makes it DNAT there; host traffic is always DNATed, to the node's first IP
 * when bound to 0.0.0.0 (upstream picks the host interface the same way).
 */
export function renderUserspace(state: ProxyState, settings: ProxySettings, ports: Map<string, number>, bindAddress: string): string {
  const bind = isAny(bindAddress) ? '0.0.0.0' : normalizeIP(bindAddress);
  const hostIP = bind === '0.0.0.0' ? normalizeIP(settings.nodeIPs[0] ?? '') : bind;
  const nat = new Map<string, string[]>(USERSPACE_NAT_CHAINS.map((c) => [c, []]));
  const filter: string[] = [];

  const containerTarget = (proxyPort: number) =>
    bind === '0.0.0.0' ? ['-j', 'REDIRECT', '--to-ports', String(proxyPort)] : ['-j', 'DNAT', '--to-destination', `${bind}:${proxyPort}`];
  const hostTarget = (proxyPort: number) => ['-j', 'DNAT', '--to-destination', `${hostIP}:${proxyPort}`];
  const add = (chain: string, args: string[]) => nat.get(chain)!.push(['-A', chain, ...args].join(' '));

  for (const key of [...state.services.keys()].sort()) {
    const svc = state.services.get(key)!;
    const proxyPort = ports.get(key);
    // No listener (the port could not be allocated or opened): upstream has no portal either.
    if (proxyPort === undefined) continue;

    // openOnePortal for an internal portal (ClusterIP, LB ingress IP).
    const portal = (ip: string) => {
      add(KUBE_PORTALS_CONTAINER, [...commonArgs(svc, ip, false, false, svc.port), ...containerTarget(proxyPort)]);
      add(KUBE_PORTALS_HOST, [...commonArgs(svc, ip, false, false, svc.port), ...hostTarget(proxyPort)]);
    };
    if (svc.clusterIP) portal(svc.clusterIP);
    for (const ip of svc.externalIPs) {
      // External portals: traffic not from a bridge, traffic to a local address, and the host's own.
      add(KUBE_PORTALS_CONTAINER, [...commonArgs(svc, ip, true, false, svc.port), ...containerTarget(proxyPort)]);
      add(KUBE_PORTALS_CONTAINER, [...commonArgs(svc, ip, false, true, svc.port), ...containerTarget(proxyPort)]);
      add(KUBE_PORTALS_HOST, [...commonArgs(svc, ip, false, true, svc.port), ...hostTarget(proxyPort)]);
    }
    for (const ip of svc.loadBalancerVIPs) portal(ip);
    if (svc.nodePort) {
      add(KUBE_NODEPORT_CONTAINER, [...commonArgs(svc, undefined, false, false, svc.nodePort), ...containerTarget(proxyPort)]);
      add(KUBE_NODEPORT_HOST, [...commonArgs(svc, undefined, false, false, svc.nodePort), ...hostTarget(proxyPort)]);
      // Lets redirected NodePort traffic through a default-deny INPUT: it arrives on the proxy port.
      filter.push(['-A', KUBE_NODEPORT_NON_LOCAL, ...commonArgs(svc, undefined, false, false, proxyPort), '-m', 'state', '--state', 'NEW', '-j', 'ACCEPT'].join(' '));
    }
  }

  return [
    '*nat',
    ...USERSPACE_NAT_CHAINS.map((c) => `:${c} - [0:0]`),
    ...USERSPACE_NAT_CHAINS.flatMap((c) => nat.get(c)!),
    'COMMIT',
    '*filter',
    ...USERSPACE_FILTER_CHAINS.map((c) => `:${c} - [0:0]`),
    ...filter,
    'COMMIT',
    '',
  ].join('\n');
}
