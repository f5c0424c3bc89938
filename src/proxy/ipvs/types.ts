// The data an IPVS render produces and the kernel-state parsers read back:
// one shape for both sides, so a sync is a diff of two values of these types.
import type { Protocol } from '../model.ts';
import type { JumpRule } from '../jump-rules.ts';

export interface RealServer {
  address: string;
  port: number;
  /** kube-proxy always adds with weight 1; 0 marks a real server being removed gracefully. */
  weight: number;
  /** Only known when read from the kernel (`ipvsadm -Ln`). */
  activeConn?: number;
  inactConn?: number;
}

export interface VirtualServer {
  proto: Protocol;
  address: string;
  port: number;
  scheduler: string;
  /**
   * Service flags by their ipvsadm names: "persistent" (ClientIP affinity) and
   * scheduler flags such as "mh-port" (upstream's FlagSourceHash for mh).
   */
  flags: string[];
  /** Seconds; set with the "persistent" flag (upstream: stickyMaxAgeSeconds). */
  persistentTimeout?: number;
  realServers: RealServer[];
}

/** ipset types kube-proxy's IPVS mode uses (pkg/proxy/ipvs/ipset/types.go). */
export type IpSetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface IpSet {
  name: string;
  type: IpSetType;
  /** Upstream's set comment; it is used in iptables rule comments, not stored in the kernel set. */
  comment?: string;
  /** Entries as `ipset save` prints them ("10.96.0.10,tcp:53", "30080"). */
  entries: string[];
}

export interface IpvsRuleset {
  virtualServers: VirtualServer[];
  ipsets: IpSet[];
  /** Addresses kube-proxy binds to the kube-ipvs0 dummy link (ClusterIPs, non-local external and LB IPs). */
  dummyAddresses: string[];
  /** iptables-restore payload (nat then filter), for `iptables-restore --noflush`. */
  iptables: string;
  /** The jump rules from built-in chains (not part of the restore payload). */
  jumps: JumpRule[];
  /** sysctl name (dotted) -> value. */
  sysctls: Record<string, string>;
}
