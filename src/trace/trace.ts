// `svclab trace FROM TO`: one real connection, and the path it took through
// kube-proxy's rules on every node it crossed. This is the mode-agnostic part:
// resolve both ends, watch conntrack on the entry node, make the connection
// once, and build the trace of the entry node and of the endpoint's node. What
// differs per mode is the mode's tracer (src/proxy/<mode>/tracer.ts):
//   iptables   counter walk (proxy/iptables/walk.ts) on the entry node and the endpoint's node
//   nftables   `nft monitor trace` with a temporary table of ours (proxy/nftables/trace-parse.ts)
//   ipvs       the IPVS connection table entry, plus the iptables walk it keeps
//   userspace  the portal rule's counters, the proxy port, the proxy's own connection (conntrack)
// The capture is kept tight around that one connection: monitors start first,
// counters are saved just before and just after, and trace rules match only
// this connection. In every mode conntrack gives the addresses before and
// after NAT, and the answering pod comes from the reply (HTTP/SQL) and the reply tuple.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from '../cluster/driver.ts';
import type { Pod } from '../k8s/objects.ts';
import type { EndpointView } from '../lifecycle/lab-api.ts';
import { findOriginal, latestPerConnection, parseConntrack, type ConntrackEntry, type Packet } from '../proxy/conntrack.ts';
import { CounterDiff, walkNode, type NodeWalk } from '../proxy/iptables/walk.ts';
import type { SavedDump } from '../proxy/iptables/save-parse.ts';
import { withConntrack, type Answer, type Backend, type NodeTrace } from '../proxy/trace-model.ts';
import type { ModeTracer, Monitor, TracePlan, TraceSession } from '../proxy/tracer.ts';
import { proxyMode } from '../proxy/modes.ts';
import { resolveTarget, type ResolvedTarget, type ScenarioContext } from '../scenario/context.ts';
import { CheckFailed, EnvironmentError } from '../util/errors.ts';
import { connectOnce, localAddresses, pickSourcePort, saveCounters, startMonitor, traceToolkit, type ConnectionOutcome } from './capture.ts';
import { defaultVia, parseFrom, resolveDestination, type Destination, type Via } from './target.ts';

export interface TraceOptions {
  via?: Via;
  namespace?: string;
  /** MariaDB root password for via sql (the labs use "lab"). */
  password?: string;
  /** Client timeout per connection. */
  timeoutMs?: number;
}

export interface TraceResult {
  lab: string;
  mode: string;
  via: Via;
  from: { kind: ResolvedTarget['kind']; label: string; ip: string; node: string };
  to: Destination;
  connection: ConnectionOutcome;
  endpoints: EndpointView[];
  nodes: NodeTrace[];
  answered?: Answer;
  notes: string[];
}

/** The node where the packet first meets kube-proxy's rules. */
function entryNodeOf(ctx: ScenarioContext, from: ResolvedTarget, dest: Destination): LabNode {
  if (from.kind !== 'external') return from.node;
  const node = dest.node ? ctx.nodes.get(dest.node) : undefined;
  if (!node) {
    throw new EnvironmentError(
      `the external client reaches the cluster only through a node's address; ${dest.text} is not one`,
      `trace a NodePort instead, e.g. svclab trace external node-01:${dest.service?.nodePort ?? 30007}`,
    );
  }
  return node;
}

async function resolveSource(ctx: ScenarioContext, text: string): Promise<ResolvedTarget> {
  try {
    return await resolveTarget(ctx, parseFrom(text, ctx.layout));
  } catch (err) {
    if (err instanceof CheckFailed) throw new EnvironmentError(err.message, 'see `svclab get pods -o wide`');
    throw err;
  }
}

async function conntrackList(node: LabNode, t: { src?: string; dst: string; sport?: number; dport: number }): Promise<ConntrackEntry[]> {
  const argv = ['conntrack', '-L', '-p', 'tcp', '--orig-dst', t.dst, '--orig-port-dst', String(t.dport)];
  if (t.src) argv.push('--orig-src', t.src);
  if (t.sport) argv.push('--orig-port-src', String(t.sport));
  const r = await node.exec(argv, { allowFailure: true, where: node.name });
  return parseConntrack(r.stdout);
}

/**
 * The traced connection in the entry node's conntrack: from the events seen
 * during the trace, else (a monitor that started late) from the table itself.
 * One entry per connection; more than one means the match was ambiguous.
 */
async function clientConnections(entry: LabNode, events: ConntrackEntry[], want: { src?: string; dst: string; sport?: number; dport: number }): Promise<ConntrackEntry[]> {
  const seen = latestPerConnection(findOriginal(events, { proto: 'tcp', ...want }));
  return seen.length ? seen : conntrackList(entry, want);
}

/** The endpoint's node, when it is not the entry node: the forwarded packet as it arrives there. */
async function farNodeTrace(far: LabNode, hop: Packet, role: string, diff: CounterDiff | undefined, addresses: string[], session: TraceSession): Promise<NodeTrace> {
  const t: NodeTrace = { node: far.name, ip: far.ip, role, packet: hop };
  withConntrack(t, (await conntrackList(far, hop))[0]);
  if (diff) t.iptables = walkNode(diff, hop, { origin: 'arriving', localAddrs: addresses });
  session.annotate?.(t, far, 'the forwarded connection');
  return t;
}

interface Captured {
  outcome: ConnectionOutcome;
  /** `conntrack -E` on the entry node during the trace. */
  ctEvents: string;
  /** Counter movement per node (same order as the nodes), when the mode counts rules. */
  diffs?: CounterDiff[];
}

/**
 * The side effects, in the order that keeps the capture tight: the mode's
 * setup, the monitors, counters just before and just after the connection,
 * what the mode reads right after it; then everything stopped and undone.
 */
async function captureConnection(nodes: LabNode[], entry: LabNode, tracer: ModeTracer, session: TraceSession, connect: () => Promise<ConnectionOutcome>): Promise<Captured> {
  let ct: Monitor | undefined;
  let before: SavedDump[] = [];
  let after: SavedDump[] = [];
  let outcome: ConnectionOutcome;
  let ctEvents = '';
  try {
    await session.prepare?.();
    await Promise.all([startMonitor(entry, ['conntrack', '-E', '-p', 'tcp']).then((m) => void (ct = m)), session.startMonitors?.()]);
    if (tracer.countsRules) before = await Promise.all(nodes.map(saveCounters));
    outcome = await connect();
    if (tracer.countsRules) after = await Promise.all(nodes.map(saveCounters));
    await session.afterConnection?.();
    // The last events of a short connection (FIN, the proxy's second leg) can trail the client's exit.
    await sleep(150);
  } finally {
    try {
      if (ct) ctEvents = await ct.stop();
    } finally {
      await session.cleanup?.();
    }
  }
  return { outcome, ctEvents, ...(tracer.countsRules ? { diffs: nodes.map((_, i) => new CounterDiff(before[i], after[i])) } : {}) };
}

export async function traceConnection(ctx: ScenarioContext, lab: string, fromText: string, toText: string, opts: TraceOptions = {}): Promise<TraceResult> {
  const from = await resolveSource(ctx, fromText);
  const dest = await resolveDestination(ctx.api, ctx.layout, toText, opts.namespace ?? 'default');
  if (dest.protocol !== 'TCP') throw new EnvironmentError(`trace makes a TCP connection; ${dest.text} is ${dest.protocol}`);
  const via = opts.via ?? defaultVia(dest);
  const entry = entryNodeOf(ctx, from, dest);
  const origin = from.kind === 'node' ? 'local' : 'arriving';
  const tracer = proxyMode(ctx.mode).tracer;
  const notes: string[] = [];
  const endpoints = dest.service ? await ctx.api.endpointsOf(dest.service.name, dest.service.namespace) : [];
  const pods = await ctx.api.list<Pod>('Pod');
  const nodes = [...ctx.nodes.values()];
  const sport = via === 'sql' ? undefined : pickSourcePort();
  const locals = new Map(await Promise.all(nodes.map(async (n) => [n.name, await localAddresses(n)] as const)));

  const plan: TracePlan = { entry, others: nodes.filter((n) => n !== entry), origin, clientIP: from.ip, ...(sport ? { sport } : {}), dst: dest.host, dport: dest.port, endpoints };
  const session = tracer.open(plan, traceToolkit);
  const { outcome, ctEvents, diffs } = await captureConnection(nodes, entry, tracer, session, () =>
    connectOnce(from, { via, host: dest.host, port: dest.port, sport, nodeBin: ctx.nodeBin, bundle: ctx.bundle, password: opts.password, timeoutMs: opts.timeoutMs }),
  );
  const diffOf = (n: LabNode) => diffs?.[nodes.indexOf(n)];

  // ---- the entry node ----
  const events = parseConntrack(ctEvents);
  const clientAddr = origin === 'arriving' ? from.ip : undefined;
  const mineAll = await clientConnections(entry, events, { dst: dest.host, dport: dest.port, ...(outcome.sport ? { sport: outcome.sport } : {}), ...(clientAddr ? { src: clientAddr } : {}) });
  if (mineAll.length > 1) notes.push(`${mineAll.length} connections to ${dest.host}:${dest.port} matched on ${entry.name}; showing the first`);
  const mine: ConntrackEntry | undefined = mineAll[0];

  const packet0: Packet = mine
    ? { proto: 'tcp', src: mine.original.src, sport: mine.original.sport, dst: mine.original.dst, dport: mine.original.dport }
    : { proto: 'tcp', src: from.kind === 'node' ? entry.ip : from.ip, ...(outcome.sport ? { sport: outcome.sport } : {}), dst: dest.host, dport: dest.port };
  const entryTrace: NodeTrace = { node: entry.name, ip: entry.ip, role: entryRole(from, dest), packet: packet0 };
  withConntrack(entryTrace, mine);
  // REDIRECT goes to the incoming interface's address: conntrack's reply says which, so it goes first.
  const entryLocals = [...(locals.get(entry.name) ?? [])].sort((a, b) => Number(b === mine?.reply.src) - Number(a === mine?.reply.src));
  const dnatHint = mine ? `${mine.reply.src}:${mine.reply.sport}` : undefined;
  const entryDiff = diffOf(entry);
  if (entryDiff) entryTrace.iptables = walkNode(entryDiff, packet0, { origin, localAddrs: entryLocals, ...(dnatHint ? { dnatHint } : {}) });
  session.annotate?.(entryTrace, entry, 'the connection');

  // ---- where the connection went ----
  const route = session.route(entryTrace, { mine, events, packet: packet0, sport: outcome.sport, connected: outcome.ok, addresses: locals.get(entry.name) ?? [], ...(entryDiff ? { counters: entryDiff } : {}) });
  notes.push(...route.notes);
  const backend = route.backend;
  // The packet as the endpoint's node receives it.
  const hop: Packet | undefined = route.hop ?? (mine && backend ? { proto: 'tcp', src: mine.reply.dst, sport: mine.reply.dport, dst: backend.ip, dport: backend.port } : undefined);

  const traces: NodeTrace[] = [entryTrace];
  let answered: Answer | undefined;
  if (backend) {
    answered = answerFrom(backend, pods, ctx, dest.service ? endpoints : undefined, outcome);
    // The endpoint's node, when it is not the entry node: the forwarded packet's walk there.
    const far = answered.node ? ctx.nodes.get(answered.node) : undefined;
    if (far && far !== entry && hop) traces.push(await farNodeTrace(far, hop, `runs ${answered.pod ?? backend.ip}, the endpoint`, diffOf(far), locals.get(far.name) ?? [], session));
  } else if (outcome.answeredBy) {
    answered = answerFromReply(outcome.answeredBy, pods, dest.port);
  }

  notes.push(...closingNotes(outcome, answered, traces, diffs));
  return {
    lab,
    mode: ctx.mode,
    via,
    from: { kind: from.kind, label: from.label, ip: from.kind === 'node' ? entry.ip : from.ip, node: from.kind === 'external' ? 'external' : from.node.name },
    to: dest,
    connection: outcome,
    endpoints,
    nodes: traces,
    ...(answered ? { answered } : {}),
    notes,
  };
}

/** Who answered at the backend's address: a pod (not host-network) or a node; `endpoints` given when the destination is a Service. */
function answerFrom(backend: Backend, pods: Pod[], ctx: ScenarioContext, endpoints: EndpointView[] | undefined, outcome: ConnectionOutcome): Answer {
  const pod = pods.find((p) => p.status?.podIP === backend.ip && !p.spec?.hostNetwork);
  const answered: Answer = { ip: backend.ip, port: backend.port, source: backend.source };
  if (pod) {
    answered.pod = pod.metadata?.name;
    answered.namespace = pod.metadata?.namespace;
    answered.node = pod.spec?.nodeName;
  } else {
    const n = ctx.layout.nodes.find((x) => x.ip === backend.ip);
    if (n) answered.node = n.name;
  }
  if (endpoints) answered.isEndpoint = endpoints.some((e) => e.ip === backend.ip && e.port === backend.port);
  if (outcome.answeredBy) answered.hostname = outcome.answeredBy;
  return answered;
}

/** No backend found, but the reply named its pod (HTTP pod=…, SQL @@hostname): that pod answered. */
function answerFromReply(name: string, pods: Pod[], port: number): Answer | undefined {
  const pod = pods.find((p) => p.metadata?.name === name);
  return pod?.status?.podIP ? { pod: pod.metadata?.name, namespace: pod.metadata?.namespace, node: pod.spec?.nodeName, ip: pod.status.podIP, port, hostname: name, source: 'conntrack' } : undefined;
}

/** What the reader should know about the result: disagreements, failure, other traffic in the counters. */
function closingNotes(outcome: ConnectionOutcome, answered: Answer | undefined, traces: NodeTrace[], diffs: CounterDiff[] | undefined): string[] {
  const notes: string[] = [];
  if (outcome.answeredBy && answered?.pod && outcome.answeredBy !== answered.pod) {
    notes.push(`the reply names ${outcome.answeredBy}, conntrack points at ${answered.pod}`);
  }
  if (!outcome.ok) notes.push(`the connection did not succeed (${outcome.result}${outcome.error ? `: ${outcome.error}` : ''}); the path shows how far its first packet got`);
  for (const t of traces) {
    for (const w of [t.iptables, t.proxy?.walk]) if (w) notes.push(...walkNotes(t.node, w));
  }
  if (diffs?.some((d) => d.moved().some((m) => m.delta.reset))) {
    notes.push('a proxy rewrote some rules during the trace (counters restarted); run it again if the path looks incomplete');
  }
  return notes;
}

function walkNotes(node: string, w: NodeWalk): string[] {
  const notes = w.noise.map((n) => `${node}: ${n}`);
  for (const h of w.hooks) {
    for (const s of h.steps) {
      if (h.table === 'nat' && s.packets > 1 && /^KUBE-(SVC|SVL|EXT|SEP|NODEPORTS|FW|PORTALS|NODEPORT)/.test(s.chain)) {
        notes.push(`${node}: ${s.chain} → ${s.target} counted ${s.packets} new connections during the trace (others besides this one)`);
      }
    }
  }
  return notes;
}

function entryRole(from: ResolvedTarget, dest: Destination): string {
  if (from.kind === 'node') return 'the client is this node itself (locally sent: OUTPUT)';
  if (from.kind === 'pod') return `runs ${from.pod?.name ?? 'the client'}, the client: its packet enters here`;
  return `the external client dials ${dest.host}:${dest.port} here`;
}
