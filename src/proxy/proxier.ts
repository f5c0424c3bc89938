// The mode-agnostic proxy loop (upstream's Provider + SyncLoop): informers feed
// the change tracker, a bounded-frequency runner calls sync(), and a backend per
// mode renders (pure) and applies (side effects). Full syncs happen at start,
// after a failure, when the backend says its kernel state vanished (canary),
// and every fullSyncPeriod; otherwise a sync writes only what changed.
import type { ProxySettings, ProxyState } from './model.ts';
import { ChangeTracker } from './tracker.ts';
import { BoundedFrequencyRunner } from './bounded-runner.ts';
import { ProxyMetrics } from './metrics.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';

export interface SyncOutcome {
  /** True if this was a full sync (possibly after a failed partial one). */
  full: boolean;
  /** Rules/lines written, for metrics and logs. */
  written?: number;
}

export interface ProxyBackend {
  readonly mode: ProxyMode;
  /** Installs what must exist before the first sync (jump rules, tables, links). */
  setup(): Promise<void>;
  /** Applies `state`; `changed` lists service port keys to rewrite, undefined means full. */
  sync(state: ProxyState, changed: Set<string> | undefined, metrics: ProxyMetrics): Promise<SyncOutcome>;
  /** True if the kernel state was flushed under us (the canary is gone). */
  lostState(): Promise<boolean>;
  /** Removes everything this mode installed (used when switching modes). */
  cleanup(): Promise<void>;
}

export interface ProxierOptions {
  settings: ProxySettings;
  backend: ProxyBackend;
  minSyncPeriodMs: number; // upstream default 1s
  syncPeriodMs: number; // upstream default 30s
  fullSyncPeriodMs?: number; // upstream: 1h
  log?: (line: string) => void;
}

export class Proxier {
  readonly tracker: ChangeTracker;
  readonly metrics = new ProxyMetrics();
  private readonly runner: BoundedFrequencyRunner;
  private needFull = true;
  private lastFullSync = 0;
  private lastSyncOK = new Date(0);
  private synced = { services: false, slices: false };
  syncCount = 0;

  constructor(private readonly opts: ProxierOptions) {
    this.tracker = new ChangeTracker(opts.settings.nodeName);
    this.runner = new BoundedFrequencyRunner(() => this.syncOnce(), opts.minSyncPeriodMs, opts.syncPeriodMs);
  }

  /** Called by informers once their initial list is in (upstream waits for both before the first sync). */
  markSynced(what: 'services' | 'slices'): void {
    this.synced[what] = true;
    if (this.synced.services && this.synced.slices) this.runner.start();
  }

  /** An informer event arrived: queue a sync (rate-limited). */
  onChange(): void {
    this.metrics.lastQueuedTimestamp.set(Date.now() / 1000);
    const pending = this.tracker.pendingChanges();
    this.metrics.serviceChangesPending.set(pending.services);
    this.metrics.endpointChangesPending.set(pending.slices);
    if (this.synced.services && this.synced.slices) this.runner.run();
  }

  health(): { healthy: boolean; lastUpdated: Date } {
    // Upstream: unhealthy if a queued sync has not happened within 2 x syncPeriod.
    const healthy = this.syncCount > 0 && Date.now() - this.lastSyncOK.getTime() < 2 * this.opts.syncPeriodMs + 5000;
    return { healthy, lastUpdated: this.lastSyncOK };
  }

  stop(): void {
    this.runner.stop();
  }

  private async syncOnce(): Promise<void> {
    const { backend, log } = this.opts;
    const start = process.hrtime.bigint();
    const events = this.tracker.eventsSinceSnapshot();
    this.metrics.serviceChangesTotal.inc({}, events.services);
    this.metrics.endpointChangesTotal.inc({}, events.endpoints);
    try {
      if (!this.needFull && (await backend.lostState())) {
        log?.('canary chain is gone: the rules were flushed under us; forcing a full resync');
        this.needFull = true;
      }
      const fullPeriod = this.opts.fullSyncPeriodMs ?? 3_600_000;
      if (Date.now() - this.lastFullSync > fullPeriod) this.needFull = true;
      const snapshotAt = Date.now() / 1000;
      // The snapshot takes the pending changes even if this sync fails: the failure makes
      // the next sync a full one, which needs no list of changes.
      const { state, changed, serviceCIDRsChanged } = this.tracker.snapshot();
      this.metrics.serviceChangesPending.set(0);
      this.metrics.endpointChangesPending.set(0);
      const outcome = await backend.sync(state, this.needFull ? undefined : changed, this.metrics);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.metrics.syncDuration.observe(seconds);
      (outcome.full ? this.metrics.syncFullDuration : this.metrics.syncPartialDuration).observe(seconds);
      this.metrics.syncs.inc({ kind: outcome.full ? 'full' : 'partial' });
      this.metrics.lastTimestamp.set(Date.now() / 1000);
      this.metrics.lastSnapshot.set(snapshotAt);
      if (outcome.full) this.lastFullSync = Date.now();
      if (outcome.full || changed.size || serviceCIDRsChanged) {
        const what = outcome.full ? 'all' : changed.size;
        const cidrs = serviceCIDRsChanged ? `, ServiceCIDRs now ${state.serviceCIDRs.join(',') || 'none'}` : '';
        log?.(`synced ${what} service ports (${outcome.full ? 'full' : 'partial'}, ${state.services.size} total${cidrs}) in ${(seconds * 1000).toFixed(1)} ms`);
      }
      this.needFull = false;
      this.lastSyncOK = new Date();
      this.syncCount++;
    } catch (err) {
      this.needFull = true;
      log?.(`sync failed, will retry with a full sync: ${(err as Error).message}`);
      // Retry soon rather than waiting a whole syncPeriod.
      setTimeout(() => this.runner.run(), this.opts.minSyncPeriodMs);
    }
  }
}
