// The path one connection took through a node's iptables rules, read from
// packet counters: `iptables-save -c` just before and just after the
// connection, the rules whose counters moved, walked in netfilter's order
// (nat PREROUTING/OUTPUT → filter FORWARD/INPUT/OUTPUT → nat POSTROUTING).
//
// Counters alone cannot say which connection moved them (kubelet probes and
// DNS run alongside), so the walk follows only rules that moved AND that this
// packet can match: addresses, ports, protocol, conntrack state, the
// masquerade mark and local addresses are evaluated (match.ts); what cannot be
// evaluated there (statistic, recent, ipset, interfaces) is left to the counters. The nat
// table sees only a connection's first packet, so a nat rule on the path moves
// by exactly one; more means other connections passed the same rule too.
import type { Packet } from '../conntrack.ts';
import { ruleMatches, type PacketState } from './match.ts';
import { parseRule, type ParsedRule, type SavedDump, type SavedRule } from './save-parse.ts';

export interface Delta {
  packets: number;
  bytes: number;
  /** The rule's counters went down: it was rewritten (a proxy resync) between the snapshots. */
  reset: boolean;
}

/** Counter movement per rule of the `after` dump; rules pair up by table, chain, text and occurrence. */
export class CounterDiff {
  private readonly deltas = new Map<SavedRule, Delta>();
  constructor(readonly before: SavedDump, readonly after: SavedDump) {
    const old = new Map<string, { packets: number; bytes: number }>();
    for (const [key, rule] of keyedRules(before)) if (rule.counters) old.set(key, rule.counters);
    for (const [key, rule] of keyedRules(after)) {
      const now = rule.counters ?? { packets: 0, bytes: 0 };
      const was = old.get(key);
      // A rule that is new, or whose counters went down, was (re)written after the first snapshot: its counters count from then.
      const reset = !was || now.packets < was.packets;
      this.deltas.set(rule, reset ? { packets: now.packets, bytes: now.bytes, reset: Boolean(was) } : { packets: now.packets - was.packets, bytes: now.bytes - was.bytes, reset: false });
    }
  }

  of(rule: SavedRule): Delta {
    return this.deltas.get(rule) ?? { packets: 0, bytes: 0, reset: false };
  }

  /** Every rule whose counters moved, as `table chain rule +packets`, in dump order. */
  moved(): { table: string; rule: SavedRule; delta: Delta }[] {
    const out: { table: string; rule: SavedRule; delta: Delta }[] = [];
    for (const t of this.after.tables) for (const c of t.chains) for (const r of c.rules) {
      const d = this.of(r);
      if (d.packets > 0) out.push({ table: t.name, rule: r, delta: d });
    }
    return out;
  }
}

function* keyedRules(dump: SavedDump): Generator<[string, SavedRule]> {
  for (const t of dump.tables) for (const c of t.chains) {
    const seen = new Map<string, number>();
    for (const r of c.rules) {
      const text = r.raw.replace(/^\[\d+:\d+\]\s+/, '');
      const n = seen.get(text) ?? 0;
      seen.set(text, n + 1);
      yield [`${t.name}\0${c.name}\0${text}\0${n}`, r];
    }
  }
}

// ---- the walk ----

export interface WalkStep {
  table: string;
  /** The chain the rule is in. */
  chain: string;
  /** Nesting below the hook (0 = a rule of the built-in chain). */
  depth: number;
  /** The rule's matches and target as written (without -A CHAIN). */
  rule: string;
  comment?: string;
  /** -j value: a chain (jump) or a target (DNAT, MARK, MASQUERADE, RETURN, ...). */
  target: string;
  /** Packets and bytes the rule's counters moved by during the trace. */
  packets: number;
  bytes: number;
  /** What the step did to the packet, in words ("DNAT to 10.244.1.3:3306", "marked for masquerade"). */
  effect?: string;
  /** A jump into a chain where no rule matched: the packet came back. */
  returned?: boolean;
  /** For KUBE-SVC/KUBE-SVL endpoint picks: which of the chain's endpoint rules fired ("2 of 2"). */
  pick?: string;
}

export interface HookWalk {
  table: 'nat' | 'filter';
  hook: string;
  /** The packet as this hook saw it. */
  packet: Packet;
  steps: WalkStep[];
  /** How the hook ended: the built-in policy, or ACCEPT/DROP/DNAT... from a rule. */
  verdict: string;
}

export interface NodeWalk {
  hooks: HookWalk[];
  /** The packet as it left the node's rules (after DNAT/REDIRECT). */
  after: Packet;
  /** DNAT/REDIRECT target, SNAT/MASQUERADE, drop — in words. */
  nat: { dnat?: string; redirect?: string; masquerade?: boolean; snat?: string; dropped?: string };
  /** Rules of service chains that moved but are not on this path: other traffic during the trace. */
  noise: string[];
}

export interface WalkOptions {
  /** 'arriving': the packet comes in on an interface (from a pod or another host); 'local': a process on the node sends it. */
  origin: 'arriving' | 'local';
  /** Addresses of the node (for addrtype LOCAL and to tell INPUT from FORWARD). */
  localAddrs: string[];
  /**
   * Where conntrack says the connection went ("10.244.1.3:3306"). When counters moved for
   * several endpoints of one service (other connections at the same moment), the walk takes
   * the endpoint rule that leads there.
   */
  dnatHint?: string;
}

const MAX_DEPTH = 16;
const SERVICE_CHAIN = /^KUBE-(SERVICES|NODEPORTS|SVC-|SVL-|EXT-|SEP-|FW-|PORTALS-|NODEPORT-)/;

function targetOption(p: ParsedRule, name: string): string | undefined {
  return p.targetOptions.find((o) => o.name === name)?.values[0];
}

function ruleBody(rule: SavedRule): string {
  return rule.raw.replace(/^\[\d+:\d+\]\s+/, '').replace(/^-A\s+\S+\s+/, '');
}

type Verdict = { kind: 'continue' } | { kind: 'return' } | { kind: 'final'; verdict: string };

class Walker {
  readonly steps: WalkStep[] = [];
  readonly taken = new Set<SavedRule>();
  constructor(
    private readonly dump: SavedDump,
    private readonly diff: CounterDiff,
    private readonly state: PacketState,
    private readonly nat: NodeWalk['nat'],
    private readonly localAddrs: string[],
    private readonly dnatHint?: string,
  ) {}

  /** The DNAT destination of an endpoint chain (KUBE-SEP-…). */
  private sepDestination(table: string, sep: string): string | undefined {
    const rule = this.chain(table, sep)?.rules.find((r) => r.target === 'DNAT');
    return rule ? targetOption(parseRule(rule.raw), '--to-destination') : undefined;
  }

  chain(table: string, name: string) {
    return this.dump.tables.find((t) => t.name === table)?.chains.find((c) => c.name === name);
  }

  walk(table: string, chainName: string, depth: number): Verdict {
    const chain = this.chain(table, chainName);
    if (!chain || depth > MAX_DEPTH) return { kind: 'continue' };
    const epRules = chain.rules.filter((r) => r.jump?.startsWith('KUBE-SEP-'));
    const hinted = this.dnatHint ? epRules.filter((r) => this.sepDestination(table, r.jump!) === this.dnatHint && this.diff.of(r).packets > 0) : [];
    for (const rule of chain.rules) {
      const parsed = parseRule(rule.raw);
      if (ruleMatches(parsed, this.state) === 'no') continue;
      const delta = this.diff.of(rule);
      if (delta.packets === 0) continue;
      if (hinted.length && rule.jump?.startsWith('KUBE-SEP-') && !hinted.includes(rule)) continue;
      this.taken.add(rule);
      const target = rule.target ?? '';
      const step: WalkStep = { table, chain: chainName, depth, rule: ruleBody(rule), target, packets: delta.packets, bytes: delta.bytes };
      if (rule.comment !== undefined) step.comment = rule.comment;
      if (rule.jump?.startsWith('KUBE-SEP-') && epRules.length > 1) step.pick = `endpoint ${epRules.indexOf(rule) + 1} of ${epRules.length}`;
      this.steps.push(step);
      if (rule.jump) {
        const before = this.steps.length;
        const v = this.walk(table, rule.jump, depth + 1);
        if (v.kind === 'final') return v;
        if (this.steps.length === before) step.returned = true;
        // -g: falling off the end of the called chain returns from this one too.
        if (parsed.target && rule.raw.includes(` -g ${parsed.target}`) && v.kind === 'continue') return { kind: 'return' };
        continue;
      }
      const v = this.apply(parsed, step);
      if (v.kind !== 'continue') return v;
    }
    return { kind: 'continue' };
  }

  private apply(p: ParsedRule, step: WalkStep): Verdict {
    const s = this.state;
    switch (p.target) {
      case 'RETURN':
        if (step.chain === 'KUBE-POSTROUTING') step.effect = 'not marked for masquerade: source kept';
        return { kind: 'return' };
      case 'ACCEPT':
        return { kind: 'final', verdict: 'ACCEPT' };
      case 'DROP':
      case 'REJECT':
        this.nat.dropped = `${p.target} in ${step.table} ${step.chain}`;
        return { kind: 'final', verdict: p.target };
      case 'MARK': {
        const set = targetOption(p, '--set-xmark') ?? targetOption(p, '--set-mark');
        if (set) {
          const [v, m] = set.split('/').map((x) => Number(BigInt(x)));
          const mask = m ?? 0xffffffff;
          s.mark = ((s.mark & ~mask) ^ v) >>> 0;
          step.effect = s.mark & 0x4000 ? 'marked for masquerade (0x4000)' : 'masquerade mark cleared';
        }
        return { kind: 'continue' };
      }
      case 'DNAT': {
        const to = targetOption(p, '--to-destination') ?? '';
        const i = to.lastIndexOf(':');
        const ip = i > 0 ? to.slice(0, i) : to;
        const port = i > 0 ? Number(to.slice(i + 1).split('-')[0]) : s.packet.dport;
        s.packet = { ...s.packet, dst: ip, dport: port };
        s.ct.add('DNAT');
        this.nat.dnat = `${ip}:${port}`;
        step.effect = `DNAT to ${ip}:${port}`;
        return { kind: 'final', verdict: 'DNAT' };
      }
      case 'REDIRECT': {
        const port = Number((targetOption(p, '--to-ports') ?? String(s.packet.dport)).split('-')[0]);
        // REDIRECT sends it to the incoming interface's primary address; conntrack shows which.
        const ip = this.localAddrs.find((a) => !a.startsWith('127.')) ?? '127.0.0.1';
        s.packet = { ...s.packet, dst: ip, dport: port };
        s.ct.add('DNAT');
        this.nat.redirect = `local port ${port}`;
        step.effect = `REDIRECT to this node's port ${port}`;
        return { kind: 'final', verdict: 'REDIRECT' };
      }
      case 'MASQUERADE':
        this.nat.masquerade = true;
        s.ct.add('SNAT');
        step.effect = "source set to the outgoing interface's address (MASQUERADE)";
        return { kind: 'final', verdict: 'MASQUERADE' };
      case 'SNAT': {
        const to = targetOption(p, '--to-source') ?? '';
        this.nat.snat = to;
        s.ct.add('SNAT');
        step.effect = `SNAT to ${to}`;
        return { kind: 'final', verdict: 'SNAT' };
      }
      default:
        return { kind: 'continue' };
    }
  }
}

/**
 * Walks one node's rules for a connection's first packet, as netfilter would:
 * arriving packets go nat PREROUTING → filter FORWARD (or INPUT when the
 * destination is now local) → nat POSTROUTING; locally sent ones go
 * nat OUTPUT → filter OUTPUT → nat POSTROUTING.
 */
export function walkNode(diff: CounterDiff, packet: Packet, opts: WalkOptions): NodeWalk {
  const locals = opts.localAddrs;
  const local = (ip: string) => ip.startsWith('127.') || locals.includes(ip);
  const state: PacketState = { packet: { ...packet }, mark: 0, ct: new Set(['NEW']), local: (ip) => local(ip) };
  const result: NodeWalk = { hooks: [], after: packet, nat: {}, noise: [] };
  const taken = new Set<SavedRule>();
  const order: ['nat' | 'filter', string][] =
    opts.origin === 'local' ? [['nat', 'OUTPUT'], ['filter', 'OUTPUT'], ['nat', 'POSTROUTING']] : [['nat', 'PREROUTING']];
  const runHook = (table: 'nat' | 'filter', hook: string) => {
    const seen = { ...state.packet };
    const w = new Walker(diff.after, diff, state, result.nat, locals, opts.dnatHint);
    const v = w.walk(table, hook, 0);
    w.taken.forEach((r) => taken.add(r));
    const policy = w.chain(table, hook)?.policy ?? 'ACCEPT';
    result.hooks.push({ table, hook, packet: seen, steps: w.steps, verdict: v.kind === 'final' ? v.verdict : `policy ${policy}` });
    return v.kind === 'final' ? v.verdict : policy;
  };
  for (const [table, hook] of order) {
    const v = runHook(table, hook);
    if (v === 'DROP' || v === 'REJECT') break;
  }
  if (opts.origin === 'arriving' && !result.nat.dropped) {
    // The routing decision after PREROUTING: to this node (INPUT) or on (FORWARD, then POSTROUTING).
    if (local(state.packet.dst)) runHook('filter', 'INPUT');
    else {
      const v = runHook('filter', 'FORWARD');
      if (v !== 'DROP' && v !== 'REJECT') runHook('nat', 'POSTROUTING');
    }
  }
  result.after = { ...state.packet };
  for (const m of diff.moved()) {
    if (taken.has(m.rule) || !SERVICE_CHAIN.test(m.rule.chain) || !(m.table === 'nat' || m.table === 'filter')) continue;
    if (!m.rule.jump?.startsWith('KUBE-SEP-') && !m.rule.chain.startsWith('KUBE-SEP-')) continue;
    result.noise.push(`${m.rule.chain} → ${m.rule.target}${m.rule.comment ? ` "${m.rule.comment}"` : ''} moved by ${m.delta.packets} (another connection, not this one)`);
  }
  return result;
}
