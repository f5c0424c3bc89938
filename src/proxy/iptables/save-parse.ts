// Reads `iptables-save` output (and restore payloads, which share the format)
// into tables -> chains -> rules, and normalises rules so that a rule we render
// and the same rule read back from the kernel compare equal. The kernel rewrites
// rules on the way back: `-s 10.1.2.3` -> `-s 10.1.2.3/32`, basic matches first
// (`-s -d -i -o -p`), `--or-mark V` -> `--set-xmark V/V`, probabilities to
// 11 decimals of a 31-bit fixed point, default options spelled out, etc.
import { parseCidr, cidrString } from '../../util/cidr.ts';

export interface SavedRule {
  chain: string;
  /** Words after `-A CHAIN`, unquoted. */
  args: string[];
  /** The line as read (without a leading `[pkts:bytes]`). */
  raw: string;
  comment?: string;
  /** The `-j` value: a built-in target (ACCEPT, DNAT, MARK, ...) or a chain. */
  target?: string;
  /** Set when the target is a user chain (a jump), not a built-in target. */
  jump?: string;
  /** From `iptables-save -c`. */
  counters?: { packets: number; bytes: number };
}

export interface SavedChain {
  name: string;
  /** ACCEPT/DROP for built-in chains, "-" for user chains. */
  policy: string;
  packets: number;
  bytes: number;
  rules: SavedRule[];
  /** The payload deletes it (`-X`). */
  deleted: boolean;
}

export interface SavedTable {
  name: string;
  chains: SavedChain[];
}

export interface SavedDump {
  tables: SavedTable[];
}

/** Targets provided by iptables extensions; anything else after -j is a chain. */
const BUILTIN_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'QUEUE', 'NFQUEUE', 'LOG', 'NFLOG', 'MARK', 'CONNMARK', 'DNAT', 'SNAT',
  'MASQUERADE', 'REDIRECT', 'NETMAP', 'TPROXY', 'CT', 'NOTRACK', 'TRACE', 'TCPMSS', 'CHECKSUM', 'CLASSIFY', 'SET', 'AUDIT',
]);

/** Splits a line into words: double quotes group, `\"` and `\\` escape inside them (xtables_save_string). */
export function tokenize(line: string): string[] {
  // Fast path: most lines have no quotes at all.
  if (!line.includes('"')) return line.split(/\s+/).filter((w) => w !== '');
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    let word = '';
    let quoted = false;
    let from = i; // start of the pending plain run
    while (i < n && (quoted || !isSpace(line.charCodeAt(i)))) {
      const c = line[i];
      if (c === '"') {
        word += line.slice(from, i);
        quoted = !quoted;
        from = ++i;
      } else if (quoted && c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
        word += line.slice(from, i) + line[i + 1];
        i += 2;
        from = i;
      } else {
        i++;
      }
    }
    out.push(word + line.slice(from, i));
  }
  return out;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

function describe(chain: string, args: string[], raw: string): SavedRule {
  const rule: SavedRule = { chain, args, raw };
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '--comment' && rule.comment === undefined) rule.comment = args[i + 1];
    if (args[i] === '-j' || args[i] === '--jump' || args[i] === '-g' || args[i] === '--goto') rule.target = args[i + 1];
  }
  if (rule.target && !BUILTIN_TARGETS.has(rule.target)) rule.jump = rule.target;
  return rule;
}

/** Parses `iptables-save` output or an `iptables-restore` payload. */
export function parseIptablesSave(text: string): SavedDump {
  const tables: SavedTable[] = [];
  let table: SavedTable | undefined;
  let index = new Map<string, SavedChain>();
  const chainOf = (name: string): SavedChain => {
    if (!table) throw new Error(`iptables dump: "${name}" appears before any *table line`);
    let chain = index.get(name);
    if (!chain) {
      table.chains.push((chain = { name, policy: '-', packets: 0, bytes: 0, rules: [], deleted: false }));
      index.set(name, chain);
    }
    return chain;
  };
  text.split('\n').forEach((rawLine, n) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      tables.push((table = { name: line.slice(1), chains: [] }));
      index = new Map();
      return;
    }
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const m = line.match(/^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/);
      if (!m) throw new Error(`iptables dump line ${n + 1}: bad chain line "${line}"`);
      const chain = chainOf(m[1]);
      chain.policy = m[2];
      chain.packets = Number(m[3] ?? 0);
      chain.bytes = Number(m[4] ?? 0);
      return;
    }
    let body = line;
    let counters: SavedRule['counters'];
    const c = body.match(/^\[(\d+):(\d+)\]\s+/);
    if (c) {
      counters = { packets: Number(c[1]), bytes: Number(c[2]) };
      body = body.slice(c[0].length);
    }
    const words = tokenize(body);
    if (words[0] === '-X' || words[0] === '--delete-chain') {
      chainOf(words[1]).deleted = true;
      return;
    }
    if ((words[0] === '-A' || words[0] === '--append') && words[1]) {
      const rule = describe(words[1], words.slice(2), body);
      if (counters) rule.counters = counters;
      chainOf(words[1]).rules.push(rule);
      return;
    }
    throw new Error(`iptables dump line ${n + 1}: cannot read "${line}"`);
  });
  return { tables };
}

export function findChain(dump: SavedDump, table: string, chain: string): SavedChain | undefined {
  return dump.tables.find((t) => t.name === table)?.chains.find((c) => c.name === chain);
}

/** Every chain name of one table (what upstream's GetChainsFromTable returns for stale-chain cleanup). */
export function chainNames(dump: SavedDump, table: string): string[] {
  return dump.tables.find((t) => t.name === table)?.chains.map((c) => c.name) ?? [];
}

// ---------------------------------------------------------------------------
// Rule structure and normalisation

export interface RuleOption {
  negated: boolean;
  name: string;
  values: string[];
}

export interface ParsedRule {
  chain: string;
  /** Basic matches keyed by -s, -d, -i, -o, -p. */
  basic: Map<string, { negated: boolean; value: string }>;
  /** `-m NAME` matches in order, with their options. */
  matches: Array<{ name: string; options: RuleOption[] }>;
  target?: string;
  targetOptions: RuleOption[];
}

const BASIC: Record<string, string> = {
  '-s': '-s', '--source': '-s', '--src': '-s',
  '-d': '-d', '--destination': '-d', '--dst': '-d',
  '-i': '-i', '--in-interface': '-i',
  '-o': '-o', '--out-interface': '-o',
  '-p': '-p', '--protocol': '-p',
};
const BASIC_ORDER = ['-s', '-d', '-i', '-o', '-p'];

function isOption(word: string): boolean {
  return word.startsWith('-') && !/^-\d/.test(word);
}

/** Structures a rule line (`-A CHAIN ...`) or bare rule words. */
export function parseRule(rule: string | readonly string[]): ParsedRule {
  let words = typeof rule === 'string' ? tokenize(rule.replace(/^\[\d+:\d+\]\s+/, '')) : [...rule];
  let chain = '';
  if (words[0] === '-A' || words[0] === '--append' || words[0] === '-I' || words[0] === '-C') {
    chain = words[1] ?? '';
    words = words.slice(2);
  }
  const parsed: ParsedRule = { chain, basic: new Map(), matches: [], targetOptions: [] };
  let options: RuleOption[] | undefined; // where "--opt" words go
  let negate = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '!') {
      negate = true;
      continue;
    }
    if (BASIC[w]) {
      parsed.basic.set(BASIC[w], { negated: negate, value: words[++i] ?? '' });
      negate = false;
      continue;
    }
    if (w === '-m' || w === '--match') {
      const m = { name: words[++i] ?? '', options: [] as RuleOption[] };
      parsed.matches.push(m);
      options = m.options;
      continue;
    }
    if (w === '-j' || w === '--jump' || w === '-g' || w === '--goto') {
      parsed.target = words[++i];
      options = parsed.targetOptions;
      continue;
    }
    if (isOption(w)) {
      const opt: RuleOption = { negated: negate, name: w, values: [] };
      negate = false;
      while (i + 1 < words.length && !isOption(words[i + 1]) && words[i + 1] !== '!') opt.values.push(words[++i]);
      if (!options) {
        // An option before any -m belongs to the protocol's implicit match (`-p tcp --dport 80`).
        const proto = parsed.basic.get('-p')?.value ?? '';
        const m = { name: proto, options: [] as RuleOption[] };
        parsed.matches.push(m);
        options = m.options;
      }
      options.push(opt);
    }
  }
  return parsed;
}

const OPTION_ALIASES: Record<string, string> = {
  '--destination-port': '--dport', '--source-port': '--sport', '--to': '--to-destination',
};

function hex(v: string): string {
  const n = BigInt(v.trim());
  return `0x${n.toString(16)}`;
}

/** `V[/M]` -> `0xv/0xm` with the full mask when absent. */
function markValue(v: string, defaultMask = '0xffffffff'): string {
  const [value, mask] = v.split('/');
  return `${hex(value)}/${hex(mask ?? defaultMask)}`;
}

function normalizeAddress(v: string): string {
  try {
    const c = parseCidr(v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`, true);
    return cidrString(c);
  } catch {
    return v;
  }
}

function normalizeMatchOptions(name: string, options: RuleOption[]): RuleOption[] {
  let out = options.map((o) => ({ ...o, name: OPTION_ALIASES[o.name] ?? o.name, values: [...o.values] }));
  if (name === 'recent') {
    // iptables-save spells out the defaults.
    out = out.filter((o) => o.name !== '--rsource' && !(o.name === '--mask' && o.values[0] === '255.255.255.255'));
  }
  for (const o of out) {
    if (name === 'statistic' && o.name === '--probability') {
      // The kernel keeps lround(p * 2^31); iptables-save prints that back with 11 decimals.
      o.values = [String(Math.round(Number(o.values[0]) * 0x80000000))];
    }
    if ((name === 'mark' || name === 'connmark') && o.name === '--mark') o.values = [markValue(o.values[0])];
    if (name === 'addrtype') o.values = o.values.map((v) => v.toUpperCase());
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function normalizeTargetOptions(target: string, options: RuleOption[]): RuleOption[] {
  let out = options.map((o) => ({ ...o, values: [...o.values] }));
  if (target === 'MARK') {
    out = out.map((o) => {
      const v = o.values[0] ?? '0';
      switch (o.name) {
        case '--or-mark':
          return { negated: false, name: '--set-xmark', values: [`${hex(v)}/${hex(v)}`] };
        case '--xor-mark':
          return { negated: false, name: '--set-xmark', values: [`${hex(v)}/0x0`] };
        case '--and-mark':
          return { negated: false, name: '--set-xmark', values: [`0x0/${hex(String(~Number(BigInt(v)) >>> 0))}`] };
        case '--set-mark':
        case '--set-xmark':
          return { negated: false, name: '--set-xmark', values: [markValue(v)] };
        default:
          return o;
      }
    });
  }
  if (target === 'REJECT') out = out.filter((o) => !(o.name === '--reject-with' && o.values[0] === 'icmp-port-unreachable'));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function optionWords(options: RuleOption[]): string[] {
  return options.flatMap((o) => [...(o.negated ? ['!'] : []), o.name, ...o.values]);
}

function quote(word: string): string {
  return /^[A-Za-z0-9_.:/,+=@%-]+$/.test(word) ? word : `"${word.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * A canonical spelling of a rule, so `normalizeRule(rendered) === normalizeRule(saved)` when the
 * kernel holds the rule we wrote. Accepts a line (`-A CHAIN ...`, optionally with counters) or words.
 */
export function normalizeRule(rule: string | readonly string[]): string {
  const p = parseRule(rule);
  const words: string[] = p.chain ? ['-A', p.chain] : [];
  for (const key of BASIC_ORDER) {
    const b = p.basic.get(key);
    if (!b) continue;
    const value = key === '-s' || key === '-d' ? normalizeAddress(b.value) : key === '-p' ? b.value.toLowerCase() : b.value;
    words.push(...(b.negated ? ['!'] : []), key, value);
  }
  for (const m of p.matches) words.push('-m', m.name, ...optionWords(normalizeMatchOptions(m.name, m.options)));
  if (p.target) words.push('-j', p.target, ...optionWords(normalizeTargetOptions(p.target, p.targetOptions)));
  return words.map(quote).join(' ');
}
