// Partial sync: the transaction that moves the kernel from the ruleset of the last
// successful sync to a new one, following upstream's partial syncProxyRules:
//  - only services whose chains or affinity sets changed get their chains rewritten
//    (add + flush + every rule, like ensureChain), unchanged services are skipped;
//  - map/set elements are patched key by key (nftElementStorage: add new keys,
//    delete+add a key whose value changed, delete leftover keys last);
//  - chains of removed services or endpoints are only flushed here and deleted by a
//    later, separate transaction (staleChains): before kernel 6.2 a chain still
//    looks referenced for a moment after the map element pointing at it is gone;
//  - stale affinity sets are deleted at once, after the chains using them are flushed.
// Anything outside the per-service objects (base chains, fixed rules, nodeport-ips,
// ServiceCIDRs) changes only on a full sync upstream; here such a change makes the
// plan a full one.
import { fullPlan, op, ownersOf, writeOps, writeOwnerOps, elementsOf, type NftOp, type NftPlan } from './transaction.ts';
import {
  ELEMENT_CONTAINERS,
  isAffinitySetName,
  isServiceChainName,
  joinParts,
  type NftElement,
  type NftRuleset,
} from './ruleset.ts';

/** Everything that is not per-service, as a comparable string. */
function setupSignature(rs: NftRuleset): string {
  return JSON.stringify({
    comment: rs.comment,
    chains: rs.chains.filter((c) => !c.owner),
    sets: rs.sets
      .filter((s) => !s.owner)
      .map((s) => ((ELEMENT_CONTAINERS as readonly string[]).includes(s.name) ? { ...s, elements: [] } : s)),
    maps: rs.maps.map((m) => ({ ...m, elements: [] })),
  });
}

/** One service port's chains (with rules) and affinity sets (with properties). */
function ownerSignature(rs: NftRuleset, owner: string): string {
  return JSON.stringify({
    chains: rs.chains.filter((c) => c.owner === owner).map((c) => [c.name, c.rules]),
    sets: rs.sets.filter((s) => s.owner === owner).map(({ elements: _e, ...s }) => s),
  });
}

function byKey(elements: NftElement[]): Map<string, NftElement> {
  return new Map(elements.map((e) => [joinParts(e.key), e]));
}

export function diffPlan(prev: NftRuleset, next: NftRuleset): NftPlan {
  if (setupSignature(prev) !== setupSignature(next)) {
    return fullPlan(next, {
      existing: { chains: prev.chains.map((c) => c.name), sets: prev.sets.map((s) => s.name) },
      recreateBaseChains: false,
    });
  }

  const ops: NftOp[] = [];
  for (const owner of ownersOf(next)) {
    if (ownerSignature(prev, owner) !== ownerSignature(next, owner)) ops.push(...writeOwnerOps(next, owner));
  }

  const deletes: NftOp[] = [];
  for (const name of ELEMENT_CONTAINERS) {
    const before = byKey(elementsOf(prev, name));
    const after = byKey(elementsOf(next, name));
    for (const [key, el] of after) {
      const old = before.get(key);
      if (!old) ops.push(op.addElement(name, el));
      else if (joinParts(old.value ?? []) !== joinParts(el.value ?? [])) ops.push(op.deleteElement(name, old), op.addElement(name, el));
    }
    for (const [key, el] of before) if (!after.has(key)) deletes.push(op.deleteElement(name, el));
  }

  const active = new Set(next.chains.map((c) => c.name));
  const staleChains = prev.chains.filter((c) => isServiceChainName(c.name) && !active.has(c.name)).map((c) => c.name);
  for (const name of staleChains) ops.push(op.flushChain(name));

  const activeSets = new Set(next.sets.map((s) => s.name));
  for (const s of prev.sets) if (isAffinitySetName(s.name) && !activeSets.has(s.name)) ops.push(op.deleteSet(s.name));

  ops.push(...deletes);
  return { ops, staleChains, full: false };
}

/** The text of the partial-sync transaction from `prev` to `next` ("" when nothing changed). */
export function diffTransaction(prev: NftRuleset, next: NftRuleset): string {
  return writeOps(diffPlan(prev, next).ops);
}
