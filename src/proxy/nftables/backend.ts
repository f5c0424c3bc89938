// nftables mode as a ProxyBackend for the proxy loop (proxier.ts): render the
// table, send a full or partial transaction, and run upstream's delayed deletion
// of stale chains. Runs inside the node, so nft works on the node's namespace.
import type { ProxySettings, ProxyState } from '../model.ts';
import type { ProxyBackend, SyncOutcome } from '../proxier.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { renderNftables } from './render.ts';
import { fullPlan, writeOps, deleteChainsTransaction } from './transaction.ts';
import { diffPlan } from './diff.ts';
import { StaleChains } from './stale.ts';
import { applyNft, deleteTable, probeNft, readExisting, type NftFeatures, type NftTarget } from './apply.ts';
import type { NftRuleset } from './ruleset.ts';

export interface NftablesBackendOptions {
  log?: (line: string) => void;
  /** Run nft in this namespace instead of the current one (tests, host-side tools). */
  netns?: string;
}

export class NftablesBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  private readonly target: NftTarget;
  private features: NftFeatures | undefined;
  private prev: NftRuleset | undefined;
  private readonly stale = new StaleChains();
  /** Upstream's `flushed`: the first full sync re-creates the base chains. */
  private recreateBaseChains = true;

  constructor(private readonly settings: ProxySettings, private readonly opts: NftablesBackendOptions = {}) {
    this.target = { netns: opts.netns, where: settings.nodeName || undefined };
  }

  async setup(): Promise<void> {
    try {
      this.features = await probeNft(this.target);
    } catch (err) {
      throw new EnvironmentError(`nftables mode needs a working nft: ${(err as Error).message}`, 'apt-get install nftables');
    }
    this.opts.log?.(`nft ${this.features.version}${this.features.objectComments ? '' : ' (no object comments: leaving them out)'}`);
  }

  async sync(state: ProxyState, changed: Set<string> | undefined, metrics: ProxyMetrics): Promise<SyncOutcome> {
    const now = Date.now();
    let forceFull = changed === undefined || this.prev === undefined;

    // Chains flushed by an earlier sync go in their own transaction first.
    const due = this.stale.due(now);
    if (due.length) {
      this.stale.forget(due);
      try {
        await applyNft(deleteChainsTransaction(due), this.target, this.features);
        this.opts.log?.(`deleted ${due.length} stale nftables chains`);
      } catch (err) {
        metrics.nftCleanupFailures.inc();
        this.opts.log?.(`unable to delete stale chains, will retry: ${(err as Error).message}`);
        forceFull = true;
      }
    }

    // A partial sync re-renders only the changed services and reuses the others'
    // rendering from the last sync; the diff then writes what differs.
    const next = renderNftables(state, this.settings, forceFull ? {} : { reuse: { previous: this.prev!, changed: changed! } });
    const plan = forceFull
      ? fullPlan(next, { existing: await readExisting(this.target), recreateBaseChains: this.recreateBaseChains })
      : diffPlan(this.prev!, next);
    try {
      await applyNft(writeOps(plan.ops), this.target, this.features);
    } catch (err) {
      metrics.nftSyncFailures.inc();
      // As upstream: the stale list is wrong now, and only a full sync can recover.
      this.stale.clear();
      this.prev = undefined;
      throw err;
    }
    this.recreateBaseChains = false;
    this.stale.note(plan.staleChains, now);
    this.stale.revive(next);
    this.prev = next;
    if (next.noLocalEndpoints) {
      metrics.noLocalEndpoints.set(next.noLocalEndpoints.internal, { traffic_policy: 'internal' });
      metrics.noLocalEndpoints.set(next.noLocalEndpoints.external, { traffic_policy: 'external' });
    }
    return { full: plan.full, written: plan.ops.length };
  }

  /** Upstream's nftables proxier has no canary: a vanished table is rebuilt by the next full sync. */
  async lostState(): Promise<boolean> {
    return false;
  }

  async cleanup(): Promise<void> {
    await deleteTable(this.target);
    this.prev = undefined;
    this.stale.clear();
  }
}
