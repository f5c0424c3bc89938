// A trace as a terminal reads it: per node crossed, per hook, the rules the
// packet hit as a tree (a jump nests), each with its comment, what it matched
// on and how far its counters moved; then conntrack's before/after-NAT tuples
// and who answered. Colour only through paint() (NO_COLOR, non-TTY: none).
import { paint } from '../util/output.ts';
import { parseRule } from '../proxy/iptables/save-parse.ts';
import type { ConntrackEntry, NatSummary, Packet } from '../proxy/conntrack.ts';
import type { HookWalk, NodeWalk, WalkStep } from '../proxy/iptables/walk.ts';
import type { NftHook, NftStep, NftWalk } from '../proxy/nftables/trace-parse.ts';
import type { NodeTrace } from '../proxy/trace-model.ts';
import type { TraceResult } from './trace.ts';

export interface TreeItem {
  depth: number;
  label: string;
  /** Shown after the label, aligned. */
  detail?: string;
}

/** Box-drawing tree lines for items in walk order (a deeper item is a child of the one above it). */
export function treeLines(items: TreeItem[], indent = '  '): string[] {
  const last = items.map((it, i) => {
    for (let j = i + 1; j < items.length; j++) {
      if (items[j].depth < it.depth) return true;
      if (items[j].depth === it.depth) return false;
    }
    return true;
  });
  const open: boolean[] = []; // per depth: does a later sibling follow (draw │)?
  const heads = items.map((it, i) => {
    open[it.depth] = !last[i];
    const bars = Array.from({ length: it.depth }, (_, d) => (open[d] ? '│  ' : '   ')).join('');
    return `${indent}${bars}${last[i] ? '└─ ' : '├─ '}${it.label}`;
  });
  const width = Math.min(64, Math.max(0, ...heads.map((h) => visible(h).length)));
  return heads.map((h, i) => (items[i].detail ? `${h}${' '.repeat(Math.max(1, width - visible(h).length + 2))}${items[i].detail}` : h));
}

// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\u001B\[[0-9;]*m/g, '');

const gray = (s: string) => paint('gray', s);
const cyan = (s: string) => paint('cyan', s);
const green = (s: string) => paint('green', s);
const bold = (s: string) => paint('bold', s);
const yellow = (s: string) => paint('yellow', s);
const red = (s: string) => paint('red', s);

export const hostPort = (ip: string, port?: number) => (port ? `${ip}:${port}` : ip);
const arrow = (p: Packet) => `${hostPort(p.src, p.sport)} → ${hostPort(p.dst, p.dport)}`;

/** The matches of an iptables rule worth reading next to it: "dst 10.96.0.10/32 dport 53", "random p=0.5". */
export function matchSummary(rule: string): string {
  const p = parseRule(rule);
  const out: string[] = [];
  for (const [k, b] of p.basic) {
    const not = b.negated ? 'not ' : '';
    if (k === '-s') out.push(`src ${not}${b.value}`);
    if (k === '-d') out.push(`dst ${not}${b.value}`);
  }
  for (const m of p.matches) {
    for (const o of m.options) {
      const not = o.negated ? 'not ' : '';
      const v = o.values.join(' ');
      if (o.name === '--dport' || o.name === '--dports') out.push(`dport ${not}${v}`);
      else if (o.name === '--probability') out.push(`random p=${Number(v).toFixed(2).replace(/0$/, '')}`);
      else if (m.name === 'mark' && o.name === '--mark') out.push(`${o.negated ? 'unmarked' : 'marked'} ${v.split('/')[0]}`);
      else if (m.name === 'addrtype' && o.name === '--dst-type') out.push(`dst ${not}${v.toLowerCase()}`);
      else if (m.name === 'conntrack' && o.name === '--ctstate') out.push(`ct ${not}${v}`);
      else if (m.name === 'set' && o.name === '--match-set') out.push(`${not}in ${o.values[0]}`);
      else if (m.name === 'recent' && o.name === '--rcheck') out.push('affinity hit');
    }
  }
  return out.join(' ');
}

function iptablesItems(h: HookWalk): TreeItem[] {
  const items = h.steps.map((s: WalkStep): TreeItem => {
    const label = s.target === 'DNAT' || s.target === 'REDIRECT' || s.target === 'MASQUERADE' || s.target === 'SNAT' ? green(bold(s.target)) : s.target === 'DROP' || s.target === 'REJECT' ? red(bold(s.target)) : s.target.startsWith('KUBE-') ? cyan(s.target) : s.target;
    const bits: string[] = [];
    if (s.comment) bits.push(`"${s.comment}"`);
    const m = matchSummary(s.rule);
    if (m) bits.push(`[${m}]`);
    if (s.pick) bits.push(s.pick);
    const extra = s.effect ? green(`→ ${s.effect}`) : s.returned ? gray('(nothing matched there: back)') : '';
    const count = gray(`+${s.packets} pkt${s.packets === 1 ? '' : 's'}`);
    return { depth: s.depth, label, detail: [bits.length ? gray(bits.join(' ')) : '', extra, count].filter(Boolean).join(' ') };
  });
  if (h.verdict.startsWith('policy ')) items.push({ depth: 0, label: gray(h.verdict) });
  return items;
}

function shortNftRule(rule: string): string {
  return rule.replace(/vmap \{ [^}]* \}/, 'vmap { … }');
}

function nftItems(h: NftHook): TreeItem[] {
  const items = h.steps.map((s: NftStep): TreeItem => {
    const bits: string[] = [];
    if (s.mapHit) bits.push(`element ${bold(s.mapHit.key)}`);
    if (s.pick) bits.push(s.pick);
    if (s.comment) bits.push(gray(`"${s.comment}"`));
    // A plain `jump X` rule already says where it goes; a vmap's verdict is the news.
    const said = s.rule.endsWith(s.verdict);
    const verdict = said || s.effect ? '' : /^(goto|jump) /.test(s.verdict) ? cyan(`→ ${s.verdict}`) : s.verdict === 'drop' ? red('→ drop') : s.verdict && s.verdict !== 'continue' ? gray(`→ ${s.verdict}`) : '';
    const effect = s.effect ? green(`→ ${s.effect}`) : s.returned ? gray('(nothing matched there: back)') : '';
    return { depth: s.depth, label: shortNftRule(s.rule), detail: [...bits, verdict, effect].filter(Boolean).join('  ') };
  });
  if (h.verdict.startsWith('policy ')) items.push({ depth: 0, label: gray(h.verdict) });
  return items;
}

function conntrackLines(e: ConntrackEntry, nat: NatSummary | undefined): string[] {
  const o = e.original;
  const r = e.reply;
  const lines = [
    `  ${bold('conntrack')}  original  ${hostPort(o.src, o.sport)} → ${hostPort(o.dst, o.dport)}${e.state ? gray(`  ${e.state}`) : ''}`,
    `             reply     ${hostPort(r.src, r.sport)} → ${hostPort(r.dst, r.dport)}`,
  ];
  const words: string[] = [];
  if (nat?.dnat) words.push(`destination ${nat.dnat.from} → ${green(nat.dnat.to)} (DNAT)`);
  else words.push('destination unchanged');
  if (nat?.snat) words.push(`source ${nat.snat.from} → ${yellow(nat.snat.to)} (SNAT)`);
  else words.push('source unchanged');
  lines.push(`             ${words.join(' · ')}`);
  return lines;
}

function walkLines(w: NodeWalk): string[] {
  const out: string[] = [];
  for (const h of w.hooks) {
    out.push(`  ${bold(`${h.table} ${h.hook}`)}  ${gray(arrow(h.packet))}`);
    const items = iptablesItems(h);
    out.push(...(items.length ? treeLines(items) : [`  ${gray('(no rule counters moved)')}`]));
  }
  return out;
}

function nftLines(w: NftWalk): string[] {
  const out: string[] = [];
  for (const h of w.hooks) {
    out.push(`  ${bold(`${h.table} ${h.chain}`)}  ${gray(arrow(h.packet))}`);
    const items = nftItems(h);
    out.push(...(items.length ? treeLines(items) : [`  ${gray('(no rule matched)')}`]));
  }
  return out;
}

function nodeLines(t: NodeTrace): string[] {
  const out = [`${paint('blue', '●')} ${bold(t.node)}  ${gray(t.ip)}  ${gray(`— ${t.role}`)}`];
  if (t.iptables) out.push(...walkLines(t.iptables));
  if (t.nft) out.push(...nftLines(t.nft));
  if (t.nftNote) out.push(`  ${yellow(t.nftNote)}`);
  if (t.ipvs) {
    out.push(`  ${bold('ipvs')}  virtual server ${cyan(t.ipvs.virtual)} → real server ${green(t.ipvs.real)}  ${gray(`(client ${t.ipvs.client}, ${t.ipvs.state}, expires ${t.ipvs.expire})`)}`);
  }
  if (t.conntrack) out.push(...conntrackLines(t.conntrack, t.nat));
  if (t.proxy) {
    const p = t.proxy;
    out.push(`  ${bold('userspace proxy')}  ${p.port ? `the portal redirected the connection to the proxy's port ${cyan(String(p.port))} on this node` : 'no redirect seen'}`);
    if (p.conntrack) {
      const o = p.conntrack.original;
      out.push(`  the proxy opened its own connection ${hostPort(o.src, o.sport)} → ${green(hostPort(o.dst, o.dport))}${p.candidates > 1 ? yellow(` (1 of ${p.candidates} candidates)`) : ''}`);
    }
    if (p.walk) out.push(...walkLines(p.walk).map((l) => `  ${l}`));
  }
  return out;
}

export function formatTrace(r: TraceResult): string {
  const lines: string[] = [];
  const svc = r.to.service;
  lines.push(`${bold('svclab trace')} ${gray(`· lab ${r.lab} · ${r.mode} mode`)}`);
  lines.push(`  from  ${r.from.label}  ${gray(`${r.from.ip}${r.from.kind === 'pod' ? ` on ${r.from.node}` : ''}`)}`);
  const target = svc
    ? `${r.to.kind === 'node-port' ? `NodePort ${r.to.host}:${r.to.port} (${r.to.node}) of ` : ''}service ${svc.namespace}/${svc.name}  ${gray(`${svc.clusterIP}:${svc.port}/${svc.protocol}${svc.nodePort ? `, nodePort ${svc.nodePort}` : ''}`)}`
    : r.to.kind === 'pod'
      ? `pod ${r.to.pod}  ${gray(`${r.to.host}:${r.to.port} (no Service: no kube-proxy rule applies)`)}`
      : `${r.to.host}:${r.to.port}`;
  lines.push(`  to    ${target}`);
  if (svc) {
    const eps = r.endpoints.map((e) => `${e.podName || e.ip} ${gray(`${e.ip}:${e.port}${e.nodeName ? ` on ${e.nodeName}` : ''}`)}${e.ready ? '' : yellow(' (not ready)')}`);
    lines.push(`  endpoints  ${eps.length ? eps.join(', ') : yellow('none')}`);
  }
  const c = r.connection;
  const how = { tcp: 'a TCP connect', http: 'HTTP GET /', sql: 'SQL SELECT @@hostname' }[r.via];
  lines.push(`  via   ${how}${c.sport ? gray(` from source port ${c.sport}`) : ''}: ${c.ok ? green(c.result) : red(c.result)} ${gray(`in ${c.ms} ms`)}`);
  lines.push('');
  for (const t of r.nodes) lines.push(...nodeLines(t), '');
  const a = r.answered;
  if (a) {
    const who = a.pod ? `pod ${bold(a.pod)}` : bold(a.ip);
    const where = `${hostPort(a.ip, a.port)}${a.node ? ` on ${a.node}` : ''}`;
    const ep = a.isEndpoint === undefined ? '' : a.isEndpoint ? ` — one of ${svc?.name}'s ${r.endpoints.length} endpoint${r.endpoints.length === 1 ? '' : 's'}` : yellow(` — NOT an endpoint of ${svc?.name}`);
    const said = a.hostname ? gray(`; the reply says "${a.hostname}"`) : '';
    lines.push(`${a.isEndpoint === false ? paint('yellow', '!') : green('✓')} answered by ${who} ${gray(`(${where}, from ${a.source})`)}${ep}${said}`);
  } else {
    lines.push(`${red('✗')} no answer traced${c.ok ? '' : ` (${c.result})`}`);
  }
  for (const n of r.notes) lines.push(`${yellow('!')} ${n}`);
  return lines.join('\n');
}
