// The iptables-restore payload as data and as text, built in one pass like
// upstream's LineBuffers (natChains, natRules, filterChains, filterRules): the
// data is for assertions and `proxy render`, the text is what iptables-restore reads.
import { tokenize } from './save-parse.ts';

export type TableName = 'filter' | 'nat';

/** One `-A CHAIN ...` line. `args` are the words after the chain name, unquoted. */
export interface IptablesRule {
  chain: string;
  args: string[];
  /** The `--comment` value, if any. */
  comment?: string;
  /** The `-j` value (a chain or a target such as DNAT), if any. */
  target?: string;
}

export interface IptablesTable {
  name: TableName;
  /** Chains declared with `:NAME - [0:0]` (declaring flushes them), in order. */
  chains: string[];
  rules: IptablesRule[];
  /** Chains removed with `-X` (stale service chains). */
  deletedChains: string[];
}

export interface IptablesRuleset {
  filter: IptablesTable;
  nat: IptablesTable;
  /** Exact input for `iptables-restore --noflush --counters`. */
  text: string;
  /** sync_proxy_rules_iptables_total{table}: rules kube-proxy owns after this sync (partial syncs included). */
  counts: { filter: number; nat: number };
  /** sync_proxy_rules_iptables_last{table}: rules written by this sync. */
  lastSync: { filter: number; nat: number };
  /** Service chains (SVC/SVL/EXT/FW/SEP) that exist after this sync, written or not. */
  activeNatChains: Set<string>;
  /** More endpoints than settings.largeClusterEndpointsThreshold: per-endpoint comments dropped. */
  largeClusterMode: boolean;
  /** sync_proxy_rules_no_local_endpoints_total{traffic_policy}. */
  noLocalEndpoints: { internal: number; external: number };
  fullSync: boolean;
}

const NEEDS_QUOTES = /\s/;

/** Quotes a word the way kube-proxy writes it: comments with spaces get double quotes. */
export function quoteWord(word: string): string {
  return word === '' || NEEDS_QUOTES.test(word) ? `"${word}"` : word;
}

export function ruleLine(chain: string, args: readonly string[]): string {
  return ['-A', chain, ...args].map(quoteWord).join(' ');
}

export function chainLine(chain: string): string {
  return `:${chain} - [0:0]`;
}

/** Reads `--comment` and `-j` out of rule words. */
export function ruleMeta(args: readonly string[]): { comment?: string; target?: string } {
  const out: { comment?: string; target?: string } = {};
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '--comment' && out.comment === undefined) out.comment = args[i + 1];
    if (args[i] === '-j' || args[i] === '--jump') out.target = args[i + 1];
  }
  return out;
}

type RuleArgs = Array<string | readonly string[]>;

/**
 * A table being written. A "discard" buffer counts rules without keeping them:
 * upstream's partial sync computes unchanged services' chains only for the metrics.
 *
 * The hot path (10,000 services are ~80,000 rules) writes the text line at once and
 * keeps the rule's words as given; the rules as data (`toTable`) are only built when
 * someone asks for them (`proxy render -o json`, tests), not on every sync.
 */
export class TableBuffer {
  readonly chains: string[] = [];
  readonly deletedChains: string[] = [];
  private readonly chainLines: string[] = [];
  private readonly bodyLines: string[] = [];
  private ruleCount = 0;

  constructor(
    readonly table: TableName,
    readonly discard = false,
  ) {}

  chain(name: string): void {
    if (this.discard) return;
    this.chains.push(name);
    this.chainLines.push(chainLine(name));
  }

  /** Words or arrays of words, written in order (arrays are not copied: callers must not change them later). */
  rule(chain: string, ...args: RuleArgs): void {
    this.ruleCount++;
    if (this.discard) return;
    // One join per line: a flat string, where `+=` would keep a rope of every word alive.
    const words = ['-A', quoteWord(chain)];
    for (const a of args) {
      if (typeof a === 'string') words.push(quoteWord(a));
      else for (const w of a) words.push(quoteWord(w));
    }
    this.bodyLines.push(words.join(' '));
  }

  /** `-X CHAIN`: iptables-restore deletes it after the chain line has flushed it. */
  deleteChain(name: string): void {
    if (this.discard) return;
    this.deletedChains.push(name);
    this.bodyLines.push(`-X ${name}`);
  }

  /** Rules written (upstream's LineBuffer.Lines() minus the `-X` lines). */
  get count(): number {
    return this.ruleCount;
  }

  /** The rules as data, in order: read back from the lines (quoteWord's quoting is all there is to undo). */
  get rules(): IptablesRule[] {
    const out: IptablesRule[] = [];
    for (const line of this.bodyLines) {
      if (!line.startsWith('-A ')) continue;
      const [, chain, ...words] = tokenize(line);
      out.push({ chain, args: words, ...ruleMeta(words) });
    }
    return out;
  }

  toTable(): IptablesTable {
    return { name: this.table, chains: [...this.chains], rules: this.rules, deletedChains: [...this.deletedChains] };
  }

  /** `*table`, chain lines, rule lines, COMMIT. */
  text(): string {
    return `*${this.table}\n${this.chainLines.length ? `${this.chainLines.join('\n')}\n` : ''}${this.bodyLines.length ? `${this.bodyLines.join('\n')}\n` : ''}COMMIT\n`;
  }
}
