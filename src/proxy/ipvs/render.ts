// IPVS mode as a pure function: ProxyState + settings -> virtual servers, ipsets,
// the kube-ipvs0 addresses, the constant iptables payload and the sysctls.
// Mirrors upstream syncProxyRules (pkg/proxy/ipvs/proxier.go) service by
// service; what upstream does with netlink calls is data here.
import { LabFileError } from '../../util/errors.ts';
import { cidrContains, ipFamily, ipToBig, normalizeIP, parseCidr } from '../../util/cidr.ts';
import type { EndpointInfo, ProxySettings, ProxyState, ServicePortInfo } from '../model.ts';
import { categorizeEndpoints } from '../topology.ts';
import {
  emptyIpSets, entryIP, entryIPPort, entryIPPortIP, entryIPPortNet, entryPort, KUBE_CLUSTER_IP, KUBE_EXTERNAL_IP,
  KUBE_EXTERNAL_IP_LOCAL, KUBE_HEALTH_CHECK_NODE_PORT, KUBE_IPVS_IPS, KUBE_LOAD_BALANCER, KUBE_LOAD_BALANCER_FW,
  KUBE_LOAD_BALANCER_LOCAL, KUBE_LOAD_BALANCER_SOURCE_CIDR, KUBE_LOAD_BALANCER_SOURCE_IP, KUBE_LOOP_BACK,
  KUBE_NODE_PORT_LOCAL_SCTP, KUBE_NODE_PORT_LOCAL_TCP, KUBE_NODE_PORT_LOCAL_UDP, KUBE_NODE_PORT_SCTP,
  KUBE_NODE_PORT_TCP, KUBE_NODE_PORT_UDP,
} from './ipsets.ts';
import { IPVS_JUMPS, renderIpvsIptables, type NoNodeAccessEntry } from './iptables.ts';
import type { IpvsRuleset, RealServer, VirtualServer } from './types.ts';

// The text payloads live in text.ts; re-exported so `proxy render` needs one import.
export { ipvsadmRestoreText, ipsetRestoreText, formatIpvsadmList } from './text.ts';

/** Schedulers the Linux IPVS code ships (net/netfilter/ipvs/ip_vs_*.c); kube-proxy passes the name through. */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];
export const DEFAULT_SCHEDULER = 'rr';
export const DUMMY_DEVICE = 'kube-ipvs0';

export interface IpvsRenderOptions {
  /** --ipvs-strict-arp (default false): only then upstream sets arp_ignore=1 / arp_announce=2. */
  strictARP?: boolean;
  /** `uname -r`; upstream sets vs/conn_reuse_mode=0 only on kernels in [4.1, 5.9). */
  kernelVersion?: string;
}

/** The addresses upstream treats as the node's own (GetAllLocalAddressesExcept kube-ipvs0, minus loopback and link-local). */
export function nodeAddresses(nodeIPs: string[]): string[] {
  const out = new Set<string>();
  for (const raw of nodeIPs) {
    const ip = normalizeIP(raw);
    if (ipFamily(ip) !== 4 || ip.startsWith('127.') || ip.startsWith('169.254.')) continue;
    out.add(ip);
  }
  return [...out];
}

/** The node IPs NodePort virtual servers are made for (upstream nodePortAddresses handling). */
export function nodePortIPs(settings: Pick<ProxySettings, 'nodeIPs' | 'nodePortAddresses'>): string[] {
  const all = nodeAddresses(settings.nodeIPs);
  if (settings.nodePortAddresses.length === 0) return all;
  const primary = normalizeIP(settings.nodeIPs[0] ?? '');
  return all.filter((ip) =>
    settings.nodePortAddresses.some((a) => (a === 'primary' ? ip === primary : ipFamily(a.split('/')[0]) === 4 && cidrContains(parseCidr(a, true), ip))),
  );
}

export function sysctlsFor(opts: IpvsRenderOptions): Record<string, string> {
  const s: Record<string, string> = { 'net.ipv4.vs.conntrack': '1' };
  // conn_reuse_mode=0 works around a 1s delay on port reuse, fixed in 5.9 (kubernetes#93297).
  const v = opts.kernelVersion?.match(/^(\d+)\.(\d+)/);
  if (v) {
    const n = Number(v[1]) * 1000 + Number(v[2]);
    if (n >= 4001 && n < 5009) s['net.ipv4.vs.conn_reuse_mode'] = '0';
  }
  s['net.ipv4.vs.expire_nodest_conn'] = '1';
  s['net.ipv4.vs.expire_quiescent_template'] = '1';
  s['net.ipv4.ip_forward'] = '1';
  if (opts.strictARP) {
    s['net.ipv4.conf.all.arp_ignore'] = '1';
    s['net.ipv4.conf.all.arp_announce'] = '2';
  }
  return s;
}

const byIP = (a: string, b: string) => (ipToBig(a) < ipToBig(b) ? -1 : ipToBig(a) > ipToBig(b) ? 1 : 0);

function realServers(endpoints: EndpointInfo[]): RealServer[] {
  const seen = new Map<string, RealServer>();
  for (const ep of endpoints) {
    if (!ep.ip || !ep.port) continue;
    seen.set(ep.endpoint, { address: ep.ip, port: ep.port, weight: 1 });
  }
  // ipvsadm lists destinations sorted by address, then port (ipvs_cmp_dests).
  return [...seen.values()].sort((a, b) => byIP(a.address, b.address) || a.port - b.port);
}

export function renderIpvs(state: ProxyState, settings: ProxySettings, opts: IpvsRenderOptions = {}): IpvsRuleset {
  const scheduler = settings.ipvsScheduler || DEFAULT_SCHEDULER;
  if (!IPVS_SCHEDULERS.includes(scheduler)) {
    throw new LabFileError(`unknown IPVS scheduler "${scheduler}" (the kernel has: ${IPVS_SCHEDULERS.join(', ')})`);
  }
  const sets = new Map(emptyIpSets().map((s) => [s.name, new Set<string>()]));
  const add = (set: string, entry: string) => sets.get(set)!.add(entry);
  const virtualServers: VirtualServer[] = [];
  const bind = new Set<string>();
  const noNodeAccess: NoNodeAccessEntry[] = [];
  const localAddrs = new Set(nodeAddresses(settings.nodeIPs));
  const primaryNodeIP = normalizeIP(settings.nodeIPs[0] ?? '');
  const npIPs = [...state.services.values()].some((s) => s.nodePort !== 0) ? nodePortIPs(settings) : [];

  const makeVS = (svc: ServicePortInfo, address: string, port: number, rs: RealServer[]): VirtualServer => {
    const vs: VirtualServer = { proto: svc.protocol, address, port, scheduler, flags: [], realServers: rs };
    if (svc.sessionAffinityClientIP) {
      vs.flags.push('persistent');
      vs.persistentTimeout = svc.stickyMaxAgeSeconds;
    }
    // Upstream sets FlagSourceHash (0x10, ipvsadm's "mh-port") for the mh scheduler.
    if (scheduler === 'mh') vs.flags.push('mh-port');
    return vs;
  };

  for (const key of [...state.services.keys()].sort()) {
    const svc = state.services.get(key)!;
    const proto = svc.protocol.toLowerCase();
    const all = state.endpoints.get(key) ?? [];

    // Hairpin: a local endpoint reaching itself through the VIP is masqueraded (KUBE-LOOP-BACK).
    for (const ep of all) if (ep.isLocal && ep.ip && ep.port) add(KUBE_LOOP_BACK, entryIPPortIP(ep.ip, proto, ep.port, ep.ip));

    // Upstream skips the whole service port when its ClusterIP entry is invalid.
    if (!svc.clusterIP) continue;
    add(KUBE_CLUSTER_IP, entryIPPort(svc.clusterIP, proto, svc.port));

    const cat = categorizeEndpoints(all, svc, settings.nodeName);
    // syncEndpoint: Local policy uses local endpoints, or all cluster endpoints when there are none
    // (kubernetes#97081: pods on this node can still reach the service).
    const pick = (onlyLocal: boolean) =>
      realServers(onlyLocal && cat.localEndpoints.length > 0 ? cat.localEndpoints : cat.clusterEndpoints);

    virtualServers.push(makeVS(svc, svc.clusterIP, svc.port, pick(svc.internalPolicyLocal)));
    bind.add(svc.clusterIP);

    for (const ip of svc.externalIPs) {
      add(svc.externalPolicyLocal ? KUBE_EXTERNAL_IP_LOCAL : KUBE_EXTERNAL_IP, entryIPPort(ip, proto, svc.port));
      virtualServers.push(makeVS(svc, ip, svc.port, pick(svc.externalPolicyLocal)));
      // Never bind an address that already lives on another interface.
      if (!localAddrs.has(ip)) bind.add(ip);
    }

    for (const ip of svc.loadBalancerVIPs) {
      const entry = entryIPPort(ip, proto, svc.port);
      add(KUBE_LOAD_BALANCER, entry);
      if (svc.externalPolicyLocal) add(KUBE_LOAD_BALANCER_LOCAL, entry);
      if (svc.loadBalancerSourceRanges.length > 0) {
        add(KUBE_LOAD_BALANCER_FW, entry);
        let allowFromNode = false;
        for (const cidr of svc.loadBalancerSourceRanges) {
          add(KUBE_LOAD_BALANCER_SOURCE_CIDR, entryIPPortNet(ip, proto, svc.port, cidr));
          if (primaryNodeIP && cidrContains(parseCidr(cidr, true), primaryNodeIP)) allowFromNode = true;
        }
        // Requests from the node to its own LB VIP loop back with the VIP as source.
        if (allowFromNode) add(KUBE_LOAD_BALANCER_SOURCE_IP, entryIPPortIP(ip, proto, svc.port, ip));
        else noNodeAccess.push({ ip, proto, port: svc.port });
      }
      virtualServers.push(makeVS(svc, ip, svc.port, pick(svc.externalPolicyLocal)));
      if (!localAddrs.has(ip)) bind.add(ip);
    }

    if (svc.nodePort !== 0) {
      // Upstream `continue`s here, which also skips the health-check entry below.
      if (npIPs.length === 0) continue;
      const local = svc.externalPolicyLocal;
      if (svc.protocol === 'SCTP') {
        // bitmap:port cannot tell protocols apart from the set alone; SCTP uses hash:ip,port per node IP.
        for (const ip of npIPs) {
          add(KUBE_NODE_PORT_SCTP, entryIPPort(ip, proto, svc.nodePort));
          if (local) add(KUBE_NODE_PORT_LOCAL_SCTP, entryIPPort(ip, proto, svc.nodePort));
        }
      } else {
        const tcp = svc.protocol === 'TCP';
        add(tcp ? KUBE_NODE_PORT_TCP : KUBE_NODE_PORT_UDP, entryPort(svc.nodePort));
        if (local) add(tcp ? KUBE_NODE_PORT_LOCAL_TCP : KUBE_NODE_PORT_LOCAL_UDP, entryPort(svc.nodePort));
      }
      for (const ip of npIPs) virtualServers.push(makeVS(svc, ip, svc.nodePort, pick(local)));
    }

    if (svc.healthCheckNodePort !== 0) add(KUBE_HEALTH_CHECK_NODE_PORT, entryPort(svc.healthCheckNodePort));
  }

  const dummyAddresses = [...bind].sort(byIP);
  for (const ip of dummyAddresses) add(KUBE_IPVS_IPS, entryIP(ip));

  const ipsets = emptyIpSets().map((s) => ({ ...s, entries: [...sets.get(s.name)!].sort() }));
  const nonEmpty = (name: string) => sets.get(name)!.size > 0;
  return {
    virtualServers,
    ipsets,
    dummyAddresses,
    iptables: renderIpvsIptables(nonEmpty, settings, noNodeAccess),
    jumps: [...IPVS_JUMPS],
    sysctls: sysctlsFor(opts),
  };
}
