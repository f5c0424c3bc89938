// What `svclab trace` found on a node, in every mode: the packet as it met
// the node's rules, the rules' own account of its path (iptables counter walk,
// nft trace, the IPVS connection entry, the userspace proxy's leg) and
// conntrack's view of the translations. Data only: the tracers in each mode's
// folder fill it in, src/trace assembles and prints it.
import { natOf, type ConntrackEntry, type NatSummary, type Packet } from './conntrack.ts';
import type { NodeWalk } from './iptables/walk.ts';
import type { IpvsConnection } from './ipvs/connections.ts';
import type { NftWalk } from './nftables/trace-parse.ts';

export interface ProxyLeg {
  /** The userspace proxy's listening port the portal redirected to. */
  port?: number;
  /** The proxy's own connection to the endpoint it picked. */
  conntrack?: ConntrackEntry;
  /** Connections to the service's endpoints that started during the trace (more than one: ambiguous). */
  candidates: number;
  walk?: NodeWalk;
}

export interface NodeTrace {
  node: string;
  ip: string;
  /** Why the packet was here, in words. */
  role: string;
  /** The packet as it met this node's rules. */
  packet: Packet;
  iptables?: NodeWalk;
  nft?: NftWalk;
  /** Why there is no nft walk (no trace events). */
  nftNote?: string;
  ipvs?: IpvsConnection;
  conntrack?: ConntrackEntry;
  nat?: NatSummary;
  proxy?: ProxyLeg;
}

export interface Answer {
  pod?: string;
  namespace?: string;
  node?: string;
  ip: string;
  port: number;
  /** The name the reply itself carried (HTTP pod=…, SQL @@hostname). */
  hostname?: string;
  /** Where ip:port came from: conntrack's reply tuple, the IPVS table, the userspace proxy's connection. */
  source: 'conntrack' | 'ipvs' | 'userspace proxy';
  /** Is ip:port one of the Service's endpoints? (undefined: no Service) */
  isEndpoint?: boolean;
}

/** The endpoint the connection was sent to, and which record said so. */
export interface Backend {
  ip: string;
  port: number;
  source: Answer['source'];
}

/** The client's conntrack entry and its translations, on the node's trace. */
export function withConntrack(t: NodeTrace, entry: ConntrackEntry | undefined): void {
  if (!entry) return;
  t.conntrack = entry;
  t.nat = natOf(entry);
}

/** Where DNAT sent the connection: the source of conntrack's reply tuple. */
export function conntrackBackend(entry: ConntrackEntry | undefined): Backend | undefined {
  return entry ? { ip: entry.reply.src, port: entry.reply.sport, source: 'conntrack' } : undefined;
}
