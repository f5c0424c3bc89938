// The iptables-restore payload as data and as text, built in one pass like
// upstream's LineBuffers (natChains, natRules, filterChains, filterRules): the
// data is for assertions and `proxy render`, the text is what iptables-restore reads.

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

/** Quotes a word the way kube-proxy writes it: comments with spaces get double quotes. */
export function quoteWord(word: string): string {
  return word === '' || /\s/.test(word) ? `"${word}"` : word;
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

/**
 * A table being written. A "discard" buffer counts rules without keeping them:
 * upstream's partial sync computes unchanged services' chains only for the metrics.
 */
export class TableBuffer {
  readonly chains: string[] = [];
  readonly rules: IptablesRule[] = [];
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

  rule(chain: string, ...args: Array<string | readonly string[]>): void {
    this.ruleCount++;
    if (this.discard) return;
    const words = args.flat();
    this.rules.push({ chain, args: words, ...ruleMeta(words) });
    this.bodyLines.push(ruleLine(chain, words));
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

  toTable(): IptablesTable {
    return { name: this.table, chains: [...this.chains], rules: [...this.rules], deletedChains: [...this.deletedChains] };
  }

  /** `*table`, chain lines, rule lines, COMMIT. */
  text(): string {
    return [`*${this.table}`, ...this.chainLines, ...this.bodyLines, 'COMMIT', ''].join('\n');
  }
}
