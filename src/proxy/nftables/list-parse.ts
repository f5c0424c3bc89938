// Reads `nft -j list table ip kube-proxy` (libnftables JSON, schema version 1)
// into something scenario checks can query: chains with rules rendered back to
// nft-like text, sets and maps with their elements as "key : value" strings, e.g.
//   service-ips has "10.96.0.10 . tcp . 3306" -> "goto service-…-default/db-service/tcp/"
// The rule text is a best-effort rendering of the expressions kube-proxy uses; it is
// close to, not byte-identical with, `nft list` (which rewrites e.g. `mark or` to
// `meta mark |`). nft 1.0.6's JSON omits table and chain comments and a set's
// "dynamic" flag, so neither is reported here; and nft folds a one-element anonymous
// set, so our `ip daddr { 172.30.0.0/16 } drop` reads back as `ip daddr 172.30.0.0/16 drop`.

export interface ParsedRule {
  handle: number;
  /** The rule without its comment, e.g. `ip saddr 10.180.0.1 jump mark-for-masquerade`. */
  text: string;
  comment?: string;
  /** The raw libnftables expressions, for checks the text cannot express. */
  expr: unknown[];
}

export interface ParsedChain {
  name: string;
  base?: { type: string; hook: string; priority: number | string; policy?: string };
  rules: ParsedRule[];
}

export interface ParsedElement {
  /** "172.30.0.41 . tcp . 80" */
  key: string;
  /** Map value, "goto service-…" or "drop"; undefined for set elements. */
  value?: string;
  comment?: string;
  /** Seconds left, for elements of dynamic sets (affinity). */
  expires?: number;
}

export interface ParsedSet {
  name: string;
  kind: 'set' | 'map';
  /** "ipv4_addr . inet_proto . inet_service" (maps: " : verdict" appended). */
  type: string;
  flags: string[];
  timeout?: number;
  comment?: string;
  elements: ParsedElement[];
}

export interface NftTableView {
  family: string;
  name: string;
  chains: Map<string, ParsedChain>;
  sets: Map<string, ParsedSet>;
  maps: Map<string, ParsedSet>;
}

type J = any; // libnftables JSON is loosely typed; each reader below checks the shape it needs.

const VERDICTS = ['accept', 'drop', 'continue', 'return', 'queue'];

/** A value or expression as nft text. */
export function exprText(e: J): string {
  if (e === null || e === undefined) return '';
  if (typeof e === 'string' || typeof e === 'number' || typeof e === 'boolean') return String(e);
  if (Array.isArray(e)) return e.map(exprText).join(' ');
  const [k, v] = Object.entries(e as Record<string, J>)[0] ?? [];
  switch (k) {
    case 'payload':
      return v.base ? `@${v.base},${v.offset},${v.len}` : `${v.protocol} ${v.field}`;
    case 'meta':
      return `meta ${v.key}`;
    case 'ct':
      return `ct ${v.key}`;
    case 'fib':
      return `fib ${[].concat(v.flags ?? []).join(' . ')} ${v.result}`;
    case 'numgen':
      return `numgen ${v.mode} mod ${v.mod}${v.offset ? ` offset ${v.offset}` : ''}`;
    case 'concat':
      return (v as J[]).map(exprText).join(' . ');
    case 'prefix':
      return `${v.addr}/${v.len}`;
    case 'range':
      return `${exprText(v[0])}-${exprText(v[1])}`;
    case 'set':
      return `{ ${[].concat(v).map((it: J) => (Array.isArray(it) ? `${exprText(it[0])} : ${exprText(it[1])}` : exprText(it))).join(', ')} }`;
    case 'elem':
      return exprText(v.val);
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>':
      return `${exprText(v[0])} ${k} ${hexIfNumber(v[1])}`;
    case 'match': {
      // nft leaves out an implicit "==", except after a bitwise expression ("meta mark & 0x4000 == 0").
      const bitwise = v.left && typeof v.left === 'object' && ['&', '|', '^'].some((b) => b in v.left);
      const op = (v.op === '==' && !bitwise) || v.op === 'in' ? '' : `${v.op} `;
      return `${exprText(v.left)} ${op}${exprText(v.right)}`;
    }
    case 'jump':
    case 'goto':
      return `${k} ${v.target}`;
    case 'vmap':
      return `${exprText(v.key)} vmap ${exprText(v.data)}`;
    case 'map':
      return `${exprText(v.key)} map ${exprText(v.data)}`;
    case 'mangle':
      return `${exprText(v.key)} set ${exprText(v.value)}`;
    case 'masquerade':
      return ['masquerade', ...[].concat(v?.flags ?? [])].join(' ');
    case 'dnat':
    case 'snat':
      return `${k} to ${exprText(v.addr)}${v.port !== undefined ? `:${exprText(v.port)}` : ''}`;
    case 'reject':
      return 'reject';
    case 'counter':
      return 'counter';
    default:
      if (VERDICTS.includes(k)) return k;
      return JSON.stringify(e);
  }
}

function hexIfNumber(v: J): string {
  return typeof v === 'number' ? `0x${v.toString(16)}` : exprText(v);
}

/** One rule statement list as text; `set` statements read `update @set { ip saddr }`. */
function ruleText(expr: J[]): string {
  return expr
    .map((s) => {
      if (s && typeof s === 'object' && 'set' in s && s.set && typeof s.set === 'object' && 'op' in s.set) {
        return `${s.set.op} ${s.set.set} { ${exprText(s.set.elem)} }`;
      }
      return exprText(s);
    })
    .join(' ');
}

function typeText(t: J): string {
  return Array.isArray(t) ? t.join(' . ') : String(t);
}

function parseElement(raw: J, isMap: boolean): ParsedElement {
  const [k, v] = isMap ? (raw as [J, J]) : [raw, undefined];
  const el: ParsedElement = { key: exprText(k) };
  if (k && typeof k === 'object' && 'elem' in k) {
    if (k.elem.comment !== undefined) el.comment = k.elem.comment;
    if (k.elem.expires !== undefined) el.expires = k.elem.expires;
  }
  if (isMap) el.value = exprText(v);
  return el;
}

/** Parses `nft -j list table …` output. Objects of other tables are ignored. */
export function parseNftJson(json: string, table = 'kube-proxy'): NftTableView {
  const doc = JSON.parse(json) as { nftables?: J[] };
  if (!Array.isArray(doc.nftables)) throw new Error('not nft JSON output: no "nftables" array');
  const meta = doc.nftables.find((o) => o.metainfo)?.metainfo;
  if (meta && meta.json_schema_version !== 1) throw new Error(`unsupported nft JSON schema version ${meta.json_schema_version}`);

  const view: NftTableView = { family: 'ip', name: table, chains: new Map(), sets: new Map(), maps: new Map() };
  for (const o of doc.nftables) {
    if (o.table && o.table.name === table) view.family = o.table.family;
    if (o.chain && o.chain.table === table) {
      const c: ParsedChain = { name: o.chain.name, rules: [] };
      if (o.chain.hook) c.base = { type: o.chain.type, hook: o.chain.hook, priority: o.chain.prio, policy: o.chain.policy };
      view.chains.set(c.name, c);
    }
    for (const kind of ['set', 'map'] as const) {
      const s = o[kind];
      if (!s || s.table !== table) continue;
      const isMap = kind === 'map';
      view[kind === 'set' ? 'sets' : 'maps'].set(s.name, {
        name: s.name,
        kind,
        type: isMap ? `${typeText(s.type)} : ${typeText(s.map)}` : typeText(s.type),
        flags: [].concat(s.flags ?? []),
        timeout: s.timeout,
        comment: s.comment,
        elements: (s.elem ?? []).map((e: J) => parseElement(e, isMap)),
      });
    }
    if (o.rule && o.rule.table === table) {
      const c: ParsedChain = view.chains.get(o.rule.chain) ?? { name: o.rule.chain, rules: [] };
      view.chains.set(c.name, c);
      c.rules.push({ handle: o.rule.handle, text: ruleText(o.rule.expr ?? []), comment: o.rule.comment, expr: o.rule.expr ?? [] });
    }
  }
  return view;
}

/** The value a map holds for `key` ("172.30.0.41 . tcp . 80"), or undefined. */
export function mapValue(view: NftTableView, map: string, key: string): string | undefined {
  return view.maps.get(map)?.elements.find((e) => e.key === key)?.value;
}

/** Elements of a set or map whose key and value match (strings match exactly, RegExps anywhere). */
export function findElements(view: NftTableView, container: string, match: { key?: string | RegExp; value?: string | RegExp } = {}): ParsedElement[] {
  const c = view.maps.get(container) ?? view.sets.get(container);
  const ok = (s: string | undefined, m: string | RegExp | undefined) =>
    m === undefined || (s !== undefined && (typeof m === 'string' ? s === m : m.test(s)));
  return (c?.elements ?? []).filter((e) => ok(e.key, match.key) && ok(e.value, match.value));
}

/** Rule texts of a chain ([] if the chain does not exist). */
export function chainRules(view: NftTableView, chain: string): string[] {
  return view.chains.get(chain)?.rules.map((r) => r.text) ?? [];
}

/**
 * The table as one stable string, independent of handles and element order: two
 * kernels holding the same table give the same string. Dynamic-set contents
 * (affinity entries) are left out: they are traffic, not configuration.
 */
export function canonicalTable(view: NftTableView): string {
  const lines: string[] = [];
  for (const c of [...view.chains.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`chain ${c.name}${c.base ? ` { type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} }` : ''}`);
    for (const r of c.rules) lines.push(`  ${JSON.stringify(r.expr)}${r.comment !== undefined ? ` # ${r.comment}` : ''}`);
  }
  for (const s of [...view.sets.values(), ...view.maps.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`${s.kind} ${s.name} { ${s.type} flags=${s.flags.join(',')} timeout=${s.timeout ?? ''} comment=${s.comment ?? ''} }`);
    if (s.flags.includes('dynamic') || s.name.startsWith('affinity-')) continue;
    const els = s.elements.map((e) => `  ${e.key}${e.comment !== undefined ? ` comment ${e.comment}` : ''}${e.value !== undefined ? ` : ${e.value}` : ''}`);
    lines.push(...els.sort());
  }
  return lines.join('\n');
}
