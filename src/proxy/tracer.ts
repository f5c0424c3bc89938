// The contract between `svclab trace` and a proxy mode, as upstream gives each
// mode one interface: src/trace resolves the two ends, watches conntrack on
// the entry node, makes the one connection and assembles the per-node traces;
// the mode's tracer (src/proxy/<mode>/tracer.ts) says what to set up around
// that connection, what to read right after it, where the connection went and
// what the mode saw on a node. The side effects a tracer needs come in as a
// toolkit (implemented in src/trace/capture.ts), so this layer stays below it.
import type { LabNode } from '../cluster/driver.ts';
import type { ConntrackEntry, Packet } from './conntrack.ts';
import type { CounterDiff } from './iptables/walk.ts';
import type { Backend, NodeTrace } from './trace-model.ts';

export interface Monitor {
  /** Stops the monitor and returns what it printed. */
  stop(): Promise<string>;
}

export interface TraceToolkit {
  /** Starts argv in the node in the background; resolves once it has had time to open its socket. */
  startMonitor(node: LabNode, argv: string[]): Promise<Monitor>;
}

/** The connection about to be made, as the orchestration resolved it. */
export interface TracePlan {
  /** The node where the packet first meets kube-proxy's rules. */
  entry: LabNode;
  /** Every other node: where a forwarded connection may arrive. */
  others: LabNode[];
  /** 'arriving': from a pod or the external client; 'local': sent by the entry node itself. */
  origin: 'arriving' | 'local';
  /** The client's address. */
  clientIP: string;
  /** The source port the client will use, where the client can choose it. */
  sport?: number;
  /** The address and port dialled. */
  dst: string;
  dport: number;
  /** The Service's endpoints (none when the destination is not a Service). */
  endpoints: readonly { ip: string; port: number }[];
}

/** What the orchestration saw on the entry node, for the tracer to find the backend in. */
export interface EntryFindings {
  /** The traced connection's conntrack entry (undefined: not seen). */
  mine?: ConntrackEntry;
  /** Every conntrack event on the entry node during the trace. */
  events: ConntrackEntry[];
  /** The packet as it met the entry node's rules. */
  packet: Packet;
  /** The source port the connection used, when known. */
  sport?: number;
  /** Did the client's connection succeed? */
  connected: boolean;
  /** The entry node's IPv4 addresses, as `ip addr` lists them. */
  addresses: string[];
  /** Rule counter movement on the entry node, for modes that count rules. */
  counters?: CounterDiff;
}

export interface Route {
  backend?: Backend;
  /** The packet as the endpoint's node receives it, when the mode knows it better than conntrack's reply. */
  hop?: Packet;
  notes: string[];
}

/** One trace in one mode: made per connection, remembers what it set up so cleanup can undo it. */
export interface TraceSession {
  /** Before any monitor starts (nftables: temporary trace tables). */
  prepare?(): Promise<void>;
  /** The mode's own monitors, started alongside the entry node's conntrack monitor. */
  startMonitors?(): Promise<void>;
  /** Read right after the connection, before its state expires (ipvs: `ipvsadm -Lnc`). */
  afterConnection?(): Promise<void>;
  /** Always runs: stops the mode's monitors (keeping their output) and removes what prepare added. */
  cleanup?(): Promise<void>;
  /** Where the connection went; may add the mode's record to the entry node's trace. */
  route(entry: NodeTrace, found: EntryFindings): Route;
  /** Adds what the mode saw on `node` to its trace; `what` names the connection in a note. */
  annotate?(t: NodeTrace, node: LabNode, what: string): void;
}

export interface ModeTracer {
  /** Whether `iptables-save -c` is taken around the connection and walked (the mode keeps rules there). */
  readonly countsRules: boolean;
  open(plan: TracePlan, kit: TraceToolkit): TraceSession;
}
