// nftables mode in `svclab trace`: the kernel traces the connection itself. A
// temporary table of ours marks the connection's first packet for tracing on
// the entry node (and the hop to an endpoint on the other nodes), and
// `nft monitor trace` there reports every rule it hits (trace-parse.ts).
// kube-proxy's rules are not in iptables, so no counters are walked.
import { randomBytes } from 'node:crypto';
import type { LabNode } from '../../cluster/driver.ts';
import { conntrackBackend, type NodeTrace } from '../trace-model.ts';
import type { EntryFindings, Monitor, ModeTracer, Route, TracePlan, TraceSession, TraceToolkit } from '../tracer.ts';
import { parseNftTrace, traceTableText, type TraceMatch } from './trace-parse.ts';

/** What our trace table matches on the entry node: the client's connection as dialled. */
export function entryMatch(plan: TracePlan): TraceMatch {
  return { proto: 'tcp', ...(plan.origin === 'arriving' ? { src: plan.clientIP } : {}), ...(plan.sport ? { sport: plan.sport } : {}), dst: plan.dst, dport: plan.dport };
}

/** On the other nodes: the hop to an endpoint, from the client or (masqueraded) the entry node; none without endpoints. */
export function hopMatch(plan: TracePlan): TraceMatch | undefined {
  const ips = [...new Set(plan.endpoints.map((e) => e.ip))];
  const port = plan.endpoints[0]?.port;
  return ips.length && port ? { proto: 'tcp', src: [plan.clientIP, plan.entry.ip], dst: ips, dport: port } : undefined;
}

/** The node's nft walk from the monitor's output, or why there is none. */
export function setNftWalk(t: NodeTrace, output: string, table: string, what: string): void {
  const parsed = parseNftTrace(output, table);
  if (parsed.walk && parsed.walk.hooks.length) t.nft = parsed.walk;
  else t.nftNote = `no trace events for ${what} (the monitor may have started late; run the trace again)`;
}

class NftTraceSession implements TraceSession {
  private readonly table = `svclab-trace-${randomBytes(3).toString('hex')}`;
  /** Nodes that got our table, in the order they got it. */
  private readonly traced: LabNode[] = [];
  private readonly monitors: { node: LabNode; m: Monitor }[] = [];
  private readonly output = new Map<string, string>();

  constructor(private readonly plan: TracePlan, private readonly kit: TraceToolkit) {}

  private async install(n: LabNode, text: string): Promise<void> {
    await n.exec(['nft', '-f', '-'], { input: text, where: n.name });
    this.traced.push(n);
  }

  async prepare(): Promise<void> {
    await this.install(this.plan.entry, traceTableText(this.table, entryMatch(this.plan)));
    const hop = hopMatch(this.plan);
    if (hop) {
      const text = traceTableText(this.table, hop);
      await Promise.all(this.plan.others.map((n) => this.install(n, text)));
    }
  }

  async startMonitors(): Promise<void> {
    await Promise.all(this.traced.map((n) => this.kit.startMonitor(n, ['nft', 'monitor', 'trace']).then((m) => void this.monitors.push({ node: n, m }))));
  }

  async cleanup(): Promise<void> {
    for (const { node, m } of this.monitors.splice(0)) this.output.set(node.name, await m.stop());
    await Promise.all(this.traced.map((n) => n.exec(['nft', 'delete', 'table', 'ip', this.table], { allowFailure: true })));
  }

  route(_entry: NodeTrace, found: EntryFindings): Route {
    return { backend: conntrackBackend(found.mine), notes: [] };
  }

  annotate(t: NodeTrace, node: LabNode, what: string): void {
    setNftWalk(t, this.output.get(node.name) ?? '', this.table, what);
  }
}

export const nftablesTracer: ModeTracer = {
  countsRules: false,
  open: (plan, kit) => new NftTraceSession(plan, kit),
};
