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
import { renderIndex, type RenderIndex, type ServiceFragment } from './fragments.ts';
import { byOwner, fullPlan, op, writeOps, writeOwnerOps, elementsOf, type NftOp, type NftPlan, type OwnedObjects } from './transaction.ts';
import {
  ELEMENT_CONTAINERS,
  isAffinitySetName,
  isServiceChainName,
  joinParts,
  type NftElement,
  type NftRuleset,
  type NftSet,
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
function ownerSignature(objs: OwnedObjects | undefined): string {
  return JSON.stringify({
    chains: (objs?.chains ?? []).map((c) => [c.name, c.rules]),
    sets: (objs?.sets ?? []).map(({ elements: _e, ...s }) => s),
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
  const prevIndex = renderIndex(prev);
  const nextIndex = renderIndex(next);
  return prevIndex && nextIndex ? diffRendered(prevIndex, nextIndex) : diffAll(prev, next);
}

/** The plan from any two rulesets: every service and every element compared. */
function diffAll(prev: NftRuleset, next: NftRuleset): NftPlan {
  const ops: NftOp[] = [];
  const before = byOwner(prev);
  for (const [owner, objs] of byOwner(next)) {
    if (ownerSignature(before.get(owner)) !== ownerSignature(objs)) ops.push(...writeOwnerOps(objs));
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

/** A service port's own chains and sets within what its render wrote. */
function owned(frag: ServiceFragment, key: string): OwnedObjects {
  return { chains: frag.chains.filter((c) => c.owner === key), sets: frag.sets.filter((s) => s.owner === key) as NftSet[] };
}

/**
 * The same plan from two rulesets renderNftables made, looking only at the services
 * whose rendering is not shared between them (re-rendered, added or removed): a
 * partial sync after a one-service change compares one service, not all of them.
 * Operations come in diffAll's order, except that when two services write the same
 * element key, its add may come at another place in the transaction (no difference
 * to nft, which applies the whole transaction at once).
 */
function diffRendered(prev: RenderIndex, next: RenderIndex): NftPlan {
  const gone: Array<[string, ServiceFragment]> = []; // prev's renderings no longer in use, in prev's order
  for (const [key, frag] of prev.fragments) if (next.fragments.get(key) !== frag) gone.push([key, frag]);
  const come: Array<[string, ServiceFragment]> = []; // next's new renderings, in next's order
  for (const [key, frag] of next.fragments) if (prev.fragments.get(key) !== frag) come.push([key, frag]);

  const ops: NftOp[] = [];
  for (const [key, frag] of come) {
    const objs = owned(frag, key);
    const old = prev.fragments.get(key);
    if (ownerSignature(old && owned(old, key)) !== ownerSignature(objs)) ops.push(...writeOwnerOps(objs));
  }

  const deletes: NftOp[] = [];
  for (const name of ELEMENT_CONTAINERS) {
    const before = prev.elements.get(name) ?? new Map<string, NftElement>();
    const after = next.elements.get(name) ?? new Map<string, NftElement>();
    const keys = new Set<string>();
    for (const [, frag] of [...come, ...gone]) for (const e of frag.elements) if (e.container === name) keys.add(e.key);
    for (const key of keys) {
      const el = after.get(key);
      const old = before.get(key);
      if (!el) continue;
      if (!old) ops.push(op.addElement(name, el));
      else if (old !== el && joinParts(old.value ?? []) !== joinParts(el.value ?? [])) ops.push(op.deleteElement(name, old), op.addElement(name, el));
    }
    const goneKeys = new Set<string>();
    for (const [, frag] of gone) for (const e of frag.elements) if (e.container === name) goneKeys.add(e.key);
    for (const key of goneKeys) if (!after.has(key)) deletes.push(op.deleteElement(name, before.get(key)!));
  }

  const staleChains: string[] = [];
  for (const [, frag] of gone) for (const c of frag.chains) if (isServiceChainName(c.name) && !next.chains.has(c.name)) staleChains.push(c.name);
  for (const name of staleChains) ops.push(op.flushChain(name));

  for (const [, frag] of gone) for (const s of frag.sets) if (isAffinitySetName(s.name) && !next.sets.has(s.name)) ops.push(op.deleteSet(s.name));

  ops.push(...deletes);
  return { ops, staleChains, full: false };
}

/** The text of the partial-sync transaction from `prev` to `next` ("" when nothing changed). */
export function diffTransaction(prev: NftRuleset, next: NftRuleset): string {
  return writeOps(diffPlan(prev, next).ops);
}
