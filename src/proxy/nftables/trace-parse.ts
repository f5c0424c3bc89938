// nftables mode: the path of one connection from the kernel's own trace.
// A temporary table of ours sets `meta nftrace` on the connection's first
// packet (matched by its addresses and ports, `ct state new`), and
// `nft monitor trace` reports every chain and rule that packet then hits in
// every table — kube-proxy's included, with the verdict of each rule, so the
// service-ips / service-nodeports map element, the numgen pick and the
// endpoint chain's dnat are all visible. Pure: text in, steps out.
import { normalizeIP } from '../../util/cidr.ts';
import type { Packet } from '../conntrack.ts';

/** Priority of our trace chains: after conntrack (-200) so `ct state new` works, before kube-proxy's (-110). */
const TRACE_PRIORITY = -150;

export interface TraceMatch {
  proto: 'tcp' | 'udp';
  /** Left out when the kernel picks the source address (a node's own connection); several make a set. */
  src?: string | string[];
  sport?: number;
  dst: string | string[];
  dport: number;
}

/** The temporary table: a prerouting and an output chain that mark this connection's first packet for tracing. */
export function traceTableText(table: string, m: TraceMatch): string {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(table)) throw new Error(`bad trace table name "${table}"`);
  const one = (a: string) => {
    const n = normalizeIP(a);
    if (!n || n.includes(':')) throw new Error(`not an IPv4 address: "${a}"`);
    return n;
  };
  const ip = (a: string | string[]) => {
    const list = [...new Set([a].flat().map(one))];
    return list.length === 1 ? list[0] : `{ ${list.join(', ')} }`;
  };
  const port = (p: number) => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`not a port: ${p}`);
    return p;
  };
  const match = [
    ...(m.src ? [`ip saddr ${ip(m.src)}`] : []),
    `ip daddr ${ip(m.dst)}`,
    ...(m.sport ? [`${m.proto} sport ${port(m.sport)}`] : []),
    `${m.proto} dport ${port(m.dport)}`,
    'ct state new',
    'meta nftrace set 1',
  ].join(' ');
  const chain = (hook: string) => `  chain ${hook} {\n    type filter hook ${hook} priority ${TRACE_PRIORITY}; policy accept;\n    ${match}\n  }`;
  return `table ip ${table} {\n${chain('prerouting')}\n${chain('output')}\n}\n`;
}

export interface TraceEvent {
  id: string;
  table: string;
  chain: string;
  kind: 'packet' | 'rule' | 'policy' | 'verdict';
  /** Rule text (without comment and verdict), packet description, or policy/verdict word. */
  text: string;
  comment?: string;
  verdict?: string;
}

const LINE = /^trace id (\S+) (?:ip|inet|ip6|bridge|arp|netdev) (\S+) (\S+) (packet:|rule|policy|verdict)\s?(.*)$/;

/** One line of `nft monitor trace`, or undefined for anything else. */
export function parseTraceLine(line: string): TraceEvent | undefined {
  const m = line.trim().match(LINE);
  if (!m) return undefined;
  const kind = m[4] === 'packet:' ? 'packet' : (m[4] as TraceEvent['kind']);
  let text = m[5].trim();
  const ev: TraceEvent = { id: m[1], table: m[2], chain: m[3], kind, text };
  if (kind === 'rule') {
    const v = text.match(/\s*\(verdict ([^)]*)\)$/);
    if (v) {
      ev.verdict = v[1];
      text = text.slice(0, v.index).trim();
    }
    const c = text.match(/\s*comment "((?:[^"\\]|\\.)*)"$/);
    if (c) {
      ev.comment = c[1];
      text = text.slice(0, c.index).trim();
    }
    ev.text = text.replace(/\s+/g, ' ');
  } else if (kind === 'policy' || kind === 'verdict') {
    ev.verdict = text.split(/\s+/)[0];
  }
  return ev;
}

/** The packet a `packet:` line describes (addresses, ports, mark). */
export function packetFields(text: string): Packet & { mark?: number; flags?: string } {
  const get = (re: RegExp) => text.match(re)?.[1];
  const proto = get(/\b(tcp|udp|sctp) (?:sport|dport)\b/) ?? 'tcp';
  const mark = get(/\bmeta mark (0x[0-9a-f]+)/);
  const flags = get(/\btcp flags == (\S+)/);
  return {
    proto,
    src: get(/\bip saddr (\S+)/) ?? '',
    sport: Number(get(/\b(?:tcp|udp|sctp) sport (\d+)/) ?? 0) || undefined,
    dst: get(/\bip daddr (\S+)/) ?? '',
    dport: Number(get(/\b(?:tcp|udp|sctp) dport (\d+)/) ?? 0),
    ...(mark ? { mark: Number(mark) } : {}),
    ...(flags ? { flags } : {}),
  };
}

/**
 * Splits the events into traced packets. Trace ids are reused by the kernel,
 * so a packet starts at a `packet:` line in our own table, and later events
 * with its id belong to it.
 */
export function groupPackets(events: TraceEvent[], ownTable: string): TraceEvent[][] {
  const current = new Map<string, TraceEvent[]>();
  const packets: TraceEvent[][] = [];
  for (const ev of events) {
    if (ev.table === ownTable && ev.kind === 'packet') {
      const p: TraceEvent[] = [];
      packets.push(p);
      current.set(ev.id, p);
    }
    current.get(ev.id)?.push(ev);
  }
  return packets;
}

export interface NftStep {
  table: string;
  chain: string;
  depth: number;
  rule: string;
  comment?: string;
  verdict: string;
  /** The map element a `vmap @map` lookup hit, as nft lists it: "10.96.0.10 . tcp . 53". */
  mapHit?: { map: string; key: string };
  /** numgen's choice among the endpoints: "endpoint 2 of 2". */
  pick?: string;
  /** What the rule did, in words: "DNAT to 10.244.1.3:3306", "marked for masquerade". */
  effect?: string;
  /** A jump into a chain where no rule matched (a vmap without this key): the packet came back. */
  returned?: boolean;
}

export interface NftHook {
  table: string;
  /** The base chain (hook) the packet entered. */
  chain: string;
  packet: Packet;
  steps: NftStep[];
  /** The verdict that ended the hook: a rule's accept/drop, or the chain policy. */
  verdict: string;
}

export interface NftWalk {
  hooks: NftHook[];
  nat: { dnat?: string; masquerade?: boolean; dropped?: string };
}

const KEY_WORDS: Record<string, (p: Packet) => string> = {
  'ip daddr': (p) => p.dst,
  'ip saddr': (p) => p.src,
  'meta l4proto': (p) => p.proto,
  'th dport': (p) => String(p.dport),
  'tcp dport': (p) => String(p.dport),
  'udp dport': (p) => String(p.dport),
  'th sport': (p) => String(p.sport ?? ''),
};

/** The key a `KEY vmap @map` rule looked up for this packet, spelled as `nft list` spells elements. */
export function mapLookup(rule: string, p: Packet): { map: string; key: string } | undefined {
  const m = rule.match(/((?:[a-z0-9]+ [a-z0-9]+)(?: \. [a-z0-9]+ [a-z0-9]+)*) vmap @([\w-]+)/);
  if (!m) return undefined;
  const parts = m[1].split(' . ');
  if (!parts.every((w) => KEY_WORDS[w])) return undefined;
  return { map: m[2], key: parts.map((w) => KEY_WORDS[w](p)).join(' . ') };
}

function numgenPick(rule: string, verdict: string): string | undefined {
  const m = rule.match(/numgen \w+ mod (\d+) vmap \{ (.*) \}/);
  if (!m) return undefined;
  const entries = m[2].split(/,\s*/).map((e) => e.split(' : '));
  const i = entries.findIndex(([, v]) => v?.trim() === verdict);
  return i < 0 ? undefined : `numgen picked ${entries[i][0].trim()}: endpoint ${i + 1} of ${m[1]}`;
}

/** The walk of one traced packet: per hook, the rules it hit, nested by jump/goto. */
export function walkTrace(packet: TraceEvent[], ownTable: string): NftWalk {
  const walk: NftWalk = { hooks: [], nat: {} };
  let hook: NftHook | undefined;
  let stack: string[] = [];
  for (const ev of packet) {
    if (ev.table === ownTable) continue;
    if (ev.kind === 'packet') {
      hook = { table: ev.table, chain: ev.chain, packet: packetFields(ev.text), steps: [], verdict: '' };
      walk.hooks.push(hook);
      stack = [ev.chain];
      continue;
    }
    if (!hook) continue;
    if (ev.kind === 'policy') {
      hook.verdict = `policy ${ev.verdict}`;
      continue;
    }
    if (ev.kind !== 'rule') continue;
    const at = stack.lastIndexOf(ev.chain);
    if (at >= 0) stack = stack.slice(0, at + 1);
    else stack.push(ev.chain);
    const verdict = ev.verdict ?? '';
    const step: NftStep = { table: ev.table, chain: ev.chain, depth: stack.length - 1, rule: ev.text, verdict };
    if (ev.comment !== undefined) step.comment = ev.comment;
    const hit = /vmap @/.test(ev.text) && /^(goto|jump) /.test(verdict) ? mapLookup(ev.text, hook.packet) : undefined;
    if (hit) step.mapHit = hit;
    const pick = numgenPick(ev.text, verdict);
    if (pick) step.pick = pick;
    const dnat = ev.text.match(/\bdnat (?:ip )?to (\S+)/);
    if (dnat) {
      walk.nat.dnat = dnat[1];
      step.effect = `DNAT to ${dnat[1]}`;
    } else if (/\bmasquerade\b/.test(ev.text) && verdict === 'accept') {
      walk.nat.masquerade = true;
      step.effect = "source set to the outgoing interface's address (masquerade)";
    } else if (/meta mark set meta mark \| 0x0*4000\b/.test(ev.text)) step.effect = 'marked for masquerade (0x4000)';
    else if (/meta mark set meta mark \^ 0x0*4000\b/.test(ev.text)) step.effect = 'masquerade mark cleared';
    if (verdict === 'drop' || /^reject/.test(ev.text) || verdict.startsWith('reject')) {
      walk.nat.dropped = `${verdict || 'reject'} in ${ev.table} ${ev.chain}${ev.comment ? ` ("${ev.comment}")` : ''}`;
    }
    hook.steps.push(step);
    if (['accept', 'drop'].includes(verdict) || /^reject/.test(ev.text)) hook.verdict = verdict || 'reject';
  }
  for (const h of walk.hooks) {
    h.steps.forEach((s, i) => {
      if (s.verdict.startsWith('jump ') && !(h.steps[i + 1]?.depth > s.depth)) s.returned = true;
    });
  }
  return walk;
}

/** Parses the monitor's output and walks the first traced packet (the connection's first one). */
export function parseNftTrace(output: string, ownTable: string): { walk?: NftWalk; packets: number } {
  const events = output.split('\n').map(parseTraceLine).filter((e): e is TraceEvent => Boolean(e));
  const packets = groupPackets(events, ownTable);
  return { walk: packets.length ? walkTrace(packets[0], ownTable) : undefined, packets: packets.length };
}
