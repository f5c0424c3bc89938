// What each service port contributed to a rendered nftables table, kept beside the
// ruleset (a WeakMap, so NftRuleset stays plain data for dumps and tests). With it
// a partial sync re-renders only the services that changed and reuses the others'
// pieces as they were, and the diff skips a reused service without comparing it:
// the sync costs what changed, as upstream's partial syncProxyRules does, instead
// of rendering and comparing all 10,000 services for one changed endpoint.
//
// Reusing a piece is exact: the render is a pure function of (service port,
// endpoints, render context), each service only writes chains and sets named after
// itself (the names embed the service port and a hash of it), and replaying its
// chain/set/element writes in order gives what rendering it again would. Rulesets
// share these chain objects with the ones rendered before them: treat a rendered
// ruleset as read-only.
import type { NftChain, NftElement, NftRuleset, NftSet } from './ruleset.ts';

export interface ServiceFragment {
  /** Chains this service port created, in creation order, with their rules. */
  chains: NftChain[];
  /** Sets it created (per-endpoint affinity sets), without elements. */
  sets: Array<Omit<NftSet, 'elements'>>;
  /** Map and set elements it wrote, in order, with the key as text. */
  elements: Array<{ container: string; key: string; element: NftElement }>;
  /** Its share of the no-local-endpoints metric. */
  noLocal: { internal: number; external: number };
}

export interface RenderIndex {
  /** The settings the pieces were rendered under; they are reused only under the same. */
  context: string;
  /** By service port key. */
  fragments: Map<string, ServiceFragment>;
  /** Element container -> key text -> element: the table's elements, for the diff. */
  elements: Map<string, Map<string, NftElement>>;
  /** Chain name -> chain. */
  chains: Map<string, NftChain>;
  /** Set names. */
  sets: Map<string, unknown>;
}

const indexes = new WeakMap<NftRuleset, RenderIndex>();

export function attachRenderIndex(rs: NftRuleset, index: RenderIndex): void {
  indexes.set(rs, index);
}

/** The index of a ruleset made by renderNftables; undefined for one built any other way. */
export function renderIndex(rs: NftRuleset): RenderIndex | undefined {
  return indexes.get(rs);
}

/** True when `next` reused `prev`'s rendering of this service port as it was. */
export function reusedService(prev: NftRuleset, next: NftRuleset, key: string): boolean {
  const a = indexes.get(prev)?.fragments.get(key);
  return a !== undefined && a === indexes.get(next)?.fragments.get(key);
}
