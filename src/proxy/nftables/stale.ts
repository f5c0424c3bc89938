// Upstream's staleChains bookkeeping (pkg/proxy/nftables/proxier.go): a sync only
// flushes the chains it no longer needs; they are deleted at the start of a later
// sync, in their own transaction, once at least a second has passed. Deleting them
// in the same transaction that removes the map elements pointing at them fails on
// kernels before 6.2, which notice the dropped reference only a moment later.
//
// Sync loop, as upstream runs it:
//   const due = stale.due(now);                       // flushed at least 1s ago
//   if (due.length) {
//     stale.forget(due);
//     try { await applyNft(deleteChainsTransaction(due)); } catch { stale.note(due, now); } // retry later
//   }
//   const plan = prev ? diffPlan(prev, next) : fullPlan(next, { existing });
//   await applyNft(writeOps(plan.ops));
//   stale.note(plan.staleChains, now);
//   stale.revive(next);

import type { NftRuleset } from './ruleset.ts';

export const STALE_CHAIN_MIN_AGE_MS = 1000;

export class StaleChains {
  private readonly since = new Map<string, number>();

  /** Chains flushed at `now` by a successful sync. */
  note(chains: string[], now: number): void {
    for (const c of chains) this.since.set(c, now);
  }

  /** Chains the new ruleset uses again are no longer stale. */
  revive(rs: NftRuleset): void {
    if (this.since.size === 0) return;
    for (const c of rs.chains) this.since.delete(c.name);
  }

  /** Chains flushed long enough ago to delete now. */
  due(now: number, minAgeMs = STALE_CHAIN_MIN_AGE_MS): string[] {
    return [...this.since].filter(([, t]) => t < now - minAgeMs).map(([c]) => c);
  }

  forget(chains: string[]): void {
    for (const c of chains) this.since.delete(c);
  }

  /** After a failed sync upstream recomputes the set from the kernel on the next full sync. */
  clear(): void {
    this.since.clear();
  }

  get size(): number {
    return this.since.size;
  }
}
