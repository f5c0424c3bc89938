// The iptables mode's apply side: jump rules from the built-in chains, the
// canary, and the restore itself (`iptables-restore -w --noflush --counters`),
// with upstream's partial-sync fallback. Rendering is renderIptables (pure).
import type { ProxySettings, ProxyState } from '../model.ts';
import type { ProxyBackend, SyncOutcome } from '../proxier.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { run } from '../../util/exec.ts';
import { renderIptables } from './render.ts';
import { CANARY_CHAIN, CANARY_TABLES, JUMP_RULES, KUBELET_JUMP_RULES } from './jumps.ts';
import { deleteJumpRules, ensureChainsAndJumps, iptablesBinaries, type CommandRunner } from '../jump-rules.ts';
import { chainNames, parseIptablesSave, type SavedDump } from './save-parse.ts';

export type IptablesFlavor = 'nft' | 'legacy';

/** The binaries of one iptables backend (Debian ships both; `iptables` is the nft one by default). */
export function iptablesTools(flavor: IptablesFlavor) {
  return iptablesBinaries(flavor === 'legacy' ? 'legacy' : 'nft');
}

/** The proxy runs inside its node: commands run right here unless a test points them elsewhere. */
const LOCAL: CommandRunner = { name: 'local', exec: (argv, opts) => run(argv, opts) };

/** Upstream checks the canary once per syncPeriod, not on every sync. */
const CANARY_CHECK_INTERVAL_MS = 10_000;

export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables' as const;
  private readonly tools: ReturnType<typeof iptablesTools>;
  private readonly log: (line: string) => void;
  /** Service chains the kernel has after our last successful sync: partial syncs delete from these. */
  private activeNatChains = new Set<string>();
  private lastCanaryCheck = 0;
  private readonly node: CommandRunner;

  constructor(
    private readonly settings: ProxySettings,
    opts: { iptablesBackend?: IptablesFlavor; log?: (l: string) => void; runner?: CommandRunner; canaryIntervalMs?: number } = {},
  ) {
    this.tools = iptablesTools(opts.iptablesBackend ?? 'nft');
    this.log = opts.log ?? (() => {});
    this.node = opts.runner ?? LOCAL;
    this.canaryIntervalMs = opts.canaryIntervalMs ?? CANARY_CHECK_INTERVAL_MS;
  }
  private readonly canaryIntervalMs: number;

  async setup(): Promise<void> {
    await this.ensureJumps();
  }

  async lostState(): Promise<boolean> {
    if (Date.now() - this.lastCanaryCheck < this.canaryIntervalMs) return false;
    this.lastCanaryCheck = Date.now();
    for (const table of CANARY_TABLES) {
      const r = await this.node.exec([this.tools.iptables, '-w', '-t', table, '-S', CANARY_CHAIN, '1'], { allowFailure: true });
      if (r.code !== 0) {
        await this.setup(); // recreate the canary (and jumps) before the full resync
        return true;
      }
    }
    return false;
  }

  async sync(state: ProxyState, changed: Set<string> | undefined, metrics: ProxyMetrics): Promise<SyncOutcome> {
    const full = changed === undefined;
    let existing: string[];
    if (full) {
      // Upstream ensures the jumps on every full sync and lists the kernel's nat chains to find
      // stale ones. One iptables-save of every table serves both: only a jump missing from it
      // costs commands (-N, -C, -I), instead of two per jump on every full sync.
      const saved = await this.node.exec([this.tools.save], { where: this.settings.nodeName });
      const dump = parseIptablesSave(saved.stdout);
      await this.ensureJumps(dump);
      existing = chainNames(dump, 'nat');
    } else {
      // Partial sync: we know what the last sync left; no iptables-save on the hot path.
      existing = [...this.activeNatChains];
    }
    const rules = renderIptables(state, this.settings, { existingNatChains: existing, changed });
    try {
      await this.node.exec([this.tools.restore, '-w', '--noflush', '--counters'], { input: rules.text, where: this.settings.nodeName });
    } catch (err) {
      if (!full) {
        // Upstream: a failed partial restore is counted and followed by a full sync.
        metrics.partialRestoreFailures.inc();
        this.log(`partial restore failed, falling back to a full sync: ${(err as Error).message.split('\n')[0]}`);
        return this.sync(state, undefined, metrics);
      }
      metrics.restoreFailures.inc();
      throw err;
    }
    this.activeNatChains = rules.activeNatChains;
    metrics.iptablesTotal.set(rules.counts.filter, { table: 'filter' });
    metrics.iptablesTotal.set(rules.counts.nat, { table: 'nat' });
    metrics.iptablesLast.set(rules.lastSync.filter, { table: 'filter' });
    metrics.iptablesLast.set(rules.lastSync.nat, { table: 'nat' });
    metrics.noLocalEndpoints.set(rules.noLocalEndpoints.internal, { traffic_policy: 'internal' });
    metrics.noLocalEndpoints.set(rules.noLocalEndpoints.external, { traffic_policy: 'external' });
    return { full, written: rules.lastSync.filter + rules.lastSync.nat };
  }

  /** Upstream CleanupLeftovers: unhook, then flush and delete every kube-proxy chain. */
  async cleanup(): Promise<void> {
    await deleteJumpRules(this.node, JUMP_RULES, this.tools);
    const saved = await this.node.exec([this.tools.save], { allowFailure: true });
    const dump = parseIptablesSave(saved.stdout);
    const lines: string[] = [];
    for (const t of dump.tables) {
      const kube = t.chains.filter((c) => c.name.startsWith('KUBE-') && c.policy === '-' && c.name !== 'KUBE-FIREWALL');
      if (!kube.length) continue;
      lines.push(`*${t.name}`, ...kube.map((c) => `:${c.name} - [0:0]`), ...kube.map((c) => `-X ${c.name}`), 'COMMIT');
    }
    if (lines.length) await this.node.exec([this.tools.restore, '-w', '--noflush'], { input: lines.join('\n') + '\n', allowFailure: true });
  }

  /** The canary chains, the jumps and their target chains: what is missing, from one save (or `dump`) and one restore. */
  private async ensureJumps(dump?: SavedDump): Promise<void> {
    const jumps = [...JUMP_RULES, ...(this.settings.localhostNodePorts ? KUBELET_JUMP_RULES : [])];
    const canaries = CANARY_TABLES.map((table) => ({ table, chain: CANARY_CHAIN }));
    await ensureChainsAndJumps(this.node, canaries, jumps, this.tools, dump);
  }
}
