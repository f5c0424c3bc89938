// `svclab trace FROM TO`: one real connection, and the path it took through
// kube-proxy's rules on every node it crossed. The capture is kept tight
// around that one connection: monitors start first, counters are saved just
// before and just after, and trace rules match only this connection.
//   iptables   counter walk (iptables-walk.ts) on the entry node and the endpoint's node
//   nftables   `nft monitor trace` with a temporary table of ours (nft-trace.ts)
//   ipvs       the IPVS connection table entry, plus the iptables walk it keeps
//   userspace  the portal rule's counters, the proxy port, the proxy's own connection (conntrack)
// In every mode conntrack gives the addresses before and after NAT, and the
// answering pod comes from the reply (HTTP/SQL) and the reply tuple.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from '../cluster/driver.ts';
import type { Pod } from '../k8s/objects.ts';
import type { EndpointView } from '../lifecycle/lab-api.ts';
import { resolveTarget, type ResolvedTarget, type ScenarioContext } from '../scenario/context.ts';
import { CheckFailed } from '../scenario/retry.ts';
import { EnvironmentError } from '../util/errors.ts';
import { connectOnce, localAddresses, pickSourcePort, saveCounters, startMonitor, type ConnectionOutcome, type Monitor } from './capture.ts';
import { findOriginal, latestPerConnection, natOf, parseConntrack, type ConntrackEntry, type NatSummary, type Packet } from '../proxy/conntrack.ts';
import { parseIpvsConnections, type IpvsConnection } from '../proxy/ipvs/connections.ts';
import { CounterDiff, walkNode, type NodeWalk } from '../proxy/iptables/walk.ts';
import { parseNftTrace, traceTableText, type NftWalk } from '../proxy/nftables/trace-parse.ts';
import { defaultVia, parseFrom, resolveDestination, type Destination, type Via } from './target.ts';

export interface TraceOptions {
  via?: Via;
  namespace?: string;
  /** MariaDB root password for via sql (the labs use "lab"). */
  password?: string;
  /** Client timeout per connection. */
  timeoutMs?: number;
}

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

export async function traceConnection(ctx: ScenarioContext, lab: string, fromText: string, toText: string, opts: TraceOptions = {}): Promise<TraceResult> {
  const from = await resolveSource(ctx, fromText);
  const dest = await resolveDestination(ctx.api, ctx.layout, toText, opts.namespace ?? 'default');
  if (dest.protocol !== 'TCP') throw new EnvironmentError(`trace makes a TCP connection; ${dest.text} is ${dest.protocol}`);
  const via = opts.via ?? defaultVia(dest);
  const entry = entryNodeOf(ctx, from, dest);
  const origin = from.kind === 'node' ? 'local' : 'arriving';
  const mode = ctx.mode;
  const notes: string[] = [];
  const endpoints = dest.service ? await ctx.api.endpointsOf(dest.service.name, dest.service.namespace) : [];
  const pods = await ctx.api.list<Pod>('Pod');
  const nodes = [...ctx.nodes.values()];
  const others = nodes.filter((n) => n !== entry);
  const sport = via === 'sql' ? undefined : pickSourcePort();
  const locals = new Map(await Promise.all(nodes.map(async (n) => [n.name, await localAddresses(n)] as const)));
  const counters = mode !== 'nftables';

  const table = `svclab-trace-${randomBytes(3).toString('hex')}`;
  const traced: LabNode[] = [];
  const nftOut = new Map<string, string>();
  let ctEvents = '';
  let ipvsText = '';
  let before: Awaited<ReturnType<typeof saveCounters>>[] = [];
  let after: typeof before = [];
  let outcome: ConnectionOutcome;
  const monitors: { node: LabNode; kind: 'ct' | 'nft'; m: Monitor }[] = [];
  try {
    if (mode === 'nftables') {
      const install = async (n: LabNode, text: string) => {
        await n.exec(['nft', '-f', '-'], { input: text, where: n.name });
        traced.push(n);
      };
      await install(entry, traceTableText(table, { proto: 'tcp', ...(origin === 'arriving' ? { src: from.ip } : {}), ...(sport ? { sport } : {}), dst: dest.host, dport: dest.port }));
      // On the other nodes: the hop to an endpoint, from the client or (masqueraded) the entry node.
      const epIPs = [...new Set(endpoints.map((e) => e.ip))];
      const epPort = endpoints[0]?.port;
      if (epIPs.length && epPort) {
        const text = traceTableText(table, { proto: 'tcp', src: [from.ip, entry.ip], dst: epIPs, dport: epPort });
        await Promise.all(others.map((n) => install(n, text)));
      }
    }
    const starts: Promise<void>[] = [startMonitor(entry, ['conntrack', '-E', '-p', 'tcp']).then((m) => void monitors.push({ node: entry, kind: 'ct', m }))];
    for (const n of traced) starts.push(startMonitor(n, ['nft', 'monitor', 'trace']).then((m) => void monitors.push({ node: n, kind: 'nft', m })));
    await Promise.all(starts);

    if (counters) before = await Promise.all(nodes.map(saveCounters));
    outcome = await connectOnce(from, { via, host: dest.host, port: dest.port, sport, nodeBin: ctx.nodeBin, bundle: ctx.bundle, password: opts.password, timeoutMs: opts.timeoutMs });
    if (counters) after = await Promise.all(nodes.map(saveCounters));
    if (mode === 'ipvs') ipvsText = (await entry.exec(['ipvsadm', '-Lnc'], { allowFailure: true })).stdout;
    // The last events of a short connection (FIN, the proxy's second leg) can trail the client's exit.
    await sleep(150);
  } finally {
    for (const { node, kind, m } of monitors.splice(0)) {
      const text = await m.stop();
      if (kind === 'ct') ctEvents = text;
      else nftOut.set(node.name, text);
    }
    await Promise.all(traced.map((n) => n.exec(['nft', 'delete', 'table', 'ip', table], { allowFailure: true })));
  }

  // ---- the entry node ----
  const events = parseConntrack(ctEvents);
  const want = { proto: 'tcp', dst: dest.host, dport: dest.port, ...(outcome.sport ? { sport: outcome.sport } : {}), ...(origin === 'arriving' ? { src: from.ip } : {}) };
  let mineAll = latestPerConnection(findOriginal(events, want));
  if (!mineAll.length) mineAll = await conntrackList(entry, { ...want, src: origin === 'arriving' ? from.ip : undefined });
  if (mineAll.length > 1) notes.push(`${mineAll.length} connections to ${dest.host}:${dest.port} matched on ${entry.name}; showing the first`);
  const mine: ConntrackEntry | undefined = mineAll[0];

  const packet0: Packet = mine
    ? { proto: 'tcp', src: mine.original.src, sport: mine.original.sport, dst: mine.original.dst, dport: mine.original.dport }
    : { proto: 'tcp', src: from.kind === 'node' ? entry.ip : from.ip, ...(outcome.sport ? { sport: outcome.sport } : {}), dst: dest.host, dport: dest.port };
  const entryTrace: NodeTrace = { node: entry.name, ip: entry.ip, role: entryRole(from, dest), packet: packet0 };
  if (mine) {
    entryTrace.conntrack = mine;
    entryTrace.nat = natOf(mine);
  }
  const idx = (n: LabNode) => nodes.indexOf(n);
  // REDIRECT goes to the incoming interface's address: conntrack's reply says which, so it goes first.
  const entryLocals = [...(locals.get(entry.name) ?? [])].sort((a, b) => Number(b === mine?.reply.src) - Number(a === mine?.reply.src));
  const dnatHint = mine ? `${mine.reply.src}:${mine.reply.sport}` : undefined;
  if (counters) entryTrace.iptables = walkNode(new CounterDiff(before[idx(entry)], after[idx(entry)]), packet0, { origin, localAddrs: entryLocals, ...(dnatHint ? { dnatHint } : {}) });
  if (mode === 'nftables') setNft(entryTrace, nftOut.get(entry.name) ?? '', table, 'the connection');

  // ---- where the connection went ----
  let backend: { ip: string; port: number; source: Answer['source'] } | undefined;
  let hop: Packet | undefined; // the packet as the endpoint's node receives it
  if (mode === 'userspace') {
    const eps = new Set(endpoints.map((e) => `${e.ip}:${e.port}`));
    const local = new Set(locals.get(entry.name) ?? []);
    const legs = latestPerConnection(events.filter((e) => e !== mine && eps.has(`${e.original.dst}:${e.original.dport}`) && local.has(e.original.src)));
    const proxy: ProxyLeg = { candidates: legs.length };
    const redirected = mine ? natOf(mine).dnat?.to : undefined;
    if (redirected) proxy.port = Number(redirected.split(':').pop());
    if (legs.length > 1) notes.push(`${legs.length} connections to the endpoints started on ${entry.name} during the trace (kubelet probes?); the first is shown as the proxy's`);
    const leg = legs[0];
    if (leg) {
      proxy.conntrack = leg;
      const legPacket: Packet = { proto: 'tcp', src: leg.original.src, sport: leg.original.sport, dst: leg.original.dst, dport: leg.original.dport };
      if (counters) proxy.walk = walkNode(new CounterDiff(before[idx(entry)], after[idx(entry)]), legPacket, { origin: 'local', localAddrs: locals.get(entry.name) ?? [] });
      backend = { ip: leg.original.dst, port: leg.original.dport, source: 'userspace proxy' };
      hop = { proto: 'tcp', src: leg.reply.dst, sport: leg.reply.dport, dst: leg.reply.src, dport: leg.reply.sport };
    } else if (outcome.ok && endpoints.length) notes.push(`the proxy's connection to an endpoint was not seen in conntrack on ${entry.name}`);
    entryTrace.proxy = proxy;
  } else if (mode === 'ipvs') {
    const conns = parseIpvsConnections(ipvsText).filter((c) => c.virtual === `${dest.host}:${dest.port}` && (!outcome.sport || c.client === `${packet0.src}:${outcome.sport}`));
    if (conns[0]) {
      entryTrace.ipvs = conns[0];
      const i = conns[0].real.lastIndexOf(':');
      backend = { ip: conns[0].real.slice(0, i), port: Number(conns[0].real.slice(i + 1)), source: 'ipvs' };
    }
  }
  if (!backend && mine && mode !== 'userspace') backend = { ip: mine.reply.src, port: mine.reply.sport, source: 'conntrack' };
  if (!hop && mine && backend) hop = { proto: 'tcp', src: mine.reply.dst, sport: mine.reply.dport, dst: backend.ip, dport: backend.port };

  const traces: NodeTrace[] = [entryTrace];
  let answered: Answer | undefined;
  if (backend) {
    const pod = pods.find((p) => p.status?.podIP === backend!.ip && !p.spec?.hostNetwork);
    answered = { ip: backend.ip, port: backend.port, source: backend.source };
    if (pod) {
      answered.pod = pod.metadata?.name;
      answered.namespace = pod.metadata?.namespace;
      answered.node = pod.spec?.nodeName;
    } else {
      const n = ctx.layout.nodes.find((x) => x.ip === backend!.ip);
      if (n) answered.node = n.name;
    }
    if (dest.service) answered.isEndpoint = endpoints.some((e) => e.ip === backend!.ip && e.port === backend!.port);
    if (outcome.answeredBy) answered.hostname = outcome.answeredBy;
    // The endpoint's node, when it is not the entry node: the forwarded packet's walk there.
    const far = answered.node ? ctx.nodes.get(answered.node) : undefined;
    if (far && far !== entry && hop) {
      const t: NodeTrace = { node: far.name, ip: far.ip, role: `runs ${answered.pod ?? backend.ip}, the endpoint`, packet: hop };
      const found = await conntrackList(far, hop);
      if (found[0]) {
        t.conntrack = found[0];
        t.nat = natOf(found[0]);
      }
      if (counters) t.iptables = walkNode(new CounterDiff(before[idx(far)], after[idx(far)]), hop, { origin: 'arriving', localAddrs: locals.get(far.name) ?? [] });
      if (mode === 'nftables') setNft(t, nftOut.get(far.name) ?? '', table, 'the forwarded connection');
      traces.push(t);
    }
  } else if (outcome.answeredBy) {
    const pod = pods.find((p) => p.metadata?.name === outcome.answeredBy);
    if (pod?.status?.podIP) answered = { pod: pod.metadata?.name, namespace: pod.metadata?.namespace, node: pod.spec?.nodeName, ip: pod.status.podIP, port: dest.port, hostname: outcome.answeredBy, source: 'conntrack' };
  }

  if (outcome.answeredBy && answered?.pod && outcome.answeredBy !== answered.pod) {
    notes.push(`the reply names ${outcome.answeredBy}, conntrack points at ${answered.pod}`);
  }
  if (!outcome.ok) notes.push(`the connection did not succeed (${outcome.result}${outcome.error ? `: ${outcome.error}` : ''}); the path shows how far its first packet got`);
  for (const t of traces) {
    for (const w of [t.iptables, t.proxy?.walk]) {
      if (!w) continue;
      notes.push(...w.noise.map((n) => `${t.node}: ${n}`));
      for (const h of w.hooks) {
        for (const s of h.steps) {
          if (h.table === 'nat' && s.packets > 1 && /^KUBE-(SVC|SVL|EXT|SEP|NODEPORTS|FW|PORTALS|NODEPORT)/.test(s.chain)) {
            notes.push(`${t.node}: ${s.chain} → ${s.target} counted ${s.packets} new connections during the trace (others besides this one)`);
          }
        }
      }
    }
  }
  if (counters && nodes.some((_, i) => new CounterDiff(before[i], after[i]).moved().some((m) => m.delta.reset))) {
    notes.push('a proxy rewrote some rules during the trace (counters restarted); run it again if the path looks incomplete');
  }

  return {
    lab,
    mode,
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

function setNft(t: NodeTrace, output: string, table: string, what: string): void {
  const parsed = parseNftTrace(output, table);
  if (parsed.walk && parsed.walk.hooks.length) t.nft = parsed.walk;
  else t.nftNote = `no trace events for ${what} (the monitor may have started late; run the trace again)`;
}

function entryRole(from: ResolvedTarget, dest: Destination): string {
  if (from.kind === 'node') return 'the client is this node itself (locally sent: OUTPUT)';
  if (from.kind === 'pod') return `runs ${from.pod?.name ?? 'the client'}, the client: its packet enters here`;
  return `the external client dials ${dest.host}:${dest.port} here`;
}
