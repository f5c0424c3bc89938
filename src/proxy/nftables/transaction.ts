// nft transactions as data (ops) and as the text `nft -f -` reads, written the
// way sigs.k8s.io/knftables writes each object (objects.go writeOperation): one
// command per line, `{ ... ; }` property blocks, numeric base-chain priorities.
// Also the full-sync plan (upstream setupNFTables + a full syncProxyRules) and a
// dump of a ruleset in the form of knftables' Fake.Dump, which upstream's unit
// tests compare against.
import {
  ELEMENT_CONTAINERS,
  NFT_FAMILY,
  NFT_TABLE,
  SET,
  isAffinitySetName,
  isServiceChainName,
  joinParts,
  type NftChain,
  type NftElement,
  type NftMap,
  type NftRule,
  type NftRuleset,
  type NftSet,
} from './ruleset.ts';

export type NftOp =
  | { verb: 'add' | 'delete'; kind: 'table'; comment?: string }
  | { verb: 'add'; kind: 'chain'; chain: Pick<NftChain, 'name' | 'base' | 'comment'> }
  | { verb: 'flush' | 'delete'; kind: 'chain'; name: string }
  | { verb: 'add'; kind: 'rule'; chain: string; rule: NftRule }
  | { verb: 'add'; kind: 'set'; set: Omit<NftSet, 'elements' | 'owner'> }
  | { verb: 'add'; kind: 'map'; map: Omit<NftMap, 'elements'> }
  | { verb: 'flush' | 'delete'; kind: 'set' | 'map'; name: string }
  | { verb: 'add' | 'delete'; kind: 'element'; container: string; element: NftElement };

const PREFIX = `${NFT_FAMILY} ${NFT_TABLE}`;

/** Go's %q for the ASCII comments kube-proxy writes. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/** One op as one line of nft input (no trailing newline). */
export function writeOp(op: NftOp): string {
  switch (op.kind) {
    case 'table':
      return op.verb === 'add' && op.comment !== undefined
        ? `add table ${PREFIX} { comment ${quote(op.comment)} ; }`
        : `${op.verb} table ${PREFIX}`;
    case 'chain': {
      if (op.verb !== 'add') return `${op.verb} chain ${PREFIX} ${op.name}`;
      const { name, base, comment } = op.chain;
      let props = '';
      if (base) props += ` type ${base.type} hook ${base.hook} priority ${base.priority} ;`;
      if (comment !== undefined) props += ` comment ${quote(comment)} ;`;
      return `add chain ${PREFIX} ${name}${props ? ` {${props} }` : ''}`;
    }
    case 'rule':
      return `add rule ${PREFIX} ${op.chain} ${op.rule.rule}${op.rule.comment !== undefined ? ` comment ${quote(op.rule.comment)}` : ''}`;
    case 'set':
    case 'map': {
      if (op.verb !== 'add') return `${op.verb} ${op.kind} ${PREFIX} ${op.name}`;
      const def = op.kind === 'set' ? op.set : op.map;
      let props = ` type ${def.type} ;`;
      if (op.kind === 'set' && op.set.flags?.length) props += ` flags ${op.set.flags.join(',')} ;`;
      if (op.kind === 'set' && op.set.timeout !== undefined) props += ` timeout ${op.set.timeout}s ;`;
      if (def.comment !== undefined) props += ` comment ${quote(def.comment)} ;`;
      return `add ${op.kind} ${PREFIX} ${def.name} {${props} }`;
    }
    case 'element': {
      const { key, value, comment } = op.element;
      let body = joinParts(key);
      if (op.verb === 'add') {
        if (comment !== undefined) body += ` comment ${quote(comment)}`;
        if (value?.length) body += ` : ${joinParts(value)}`;
      }
      return `${op.verb} element ${PREFIX} ${op.container} { ${body} }`;
    }
  }
}

export function writeOps(ops: NftOp[]): string {
  // Joined a thousand lines at a time: the lines are ropes of their parts, and keeping
  // 150,000 of them alive until one final join (a 10,000-service full sync) made the
  // garbage collector copy them all; a chunk's join flattens them while they are young.
  const chunks: string[] = [];
  for (let i = 0; i < ops.length; i += 1024) {
    const lines: string[] = [];
    for (const op of ops.slice(i, i + 1024)) lines.push(writeOp(op));
    chunks.push(`${lines.join('\n')}\n`);
  }
  return chunks.join('');
}

// --- small op builders ---------------------------------------------------------

export const op = {
  addChain: (c: NftChain): NftOp => ({ verb: 'add', kind: 'chain', chain: { name: c.name, base: c.base, comment: c.comment } }),
  flushChain: (name: string): NftOp => ({ verb: 'flush', kind: 'chain', name }),
  deleteChain: (name: string): NftOp => ({ verb: 'delete', kind: 'chain', name }),
  addRule: (chain: string, rule: NftRule): NftOp => ({ verb: 'add', kind: 'rule', chain, rule }),
  addSet: ({ elements: _e, owner: _o, ...set }: NftSet): NftOp => ({ verb: 'add', kind: 'set', set }),
  addMap: ({ elements: _e, ...map }: NftMap): NftOp => ({ verb: 'add', kind: 'map', map }),
  flushContainer: (kind: 'set' | 'map', name: string): NftOp => ({ verb: 'flush', kind, name }),
  deleteSet: (name: string): NftOp => ({ verb: 'delete', kind: 'set', name }),
  addElement: (container: string, element: NftElement): NftOp => ({ verb: 'add', kind: 'element', container, element }),
  deleteElement: (container: string, element: NftElement): NftOp => ({
    verb: 'delete',
    kind: 'element',
    container,
    element: { key: element.key },
  }),
};

/** The per-service objects of one owner (service port key): its chains and affinity sets. */
export interface OwnedObjects {
  chains: NftChain[];
  sets: NftSet[];
}

const ownerIndexes = new WeakMap<NftRuleset, Map<string, OwnedObjects>>();

/**
 * Owners in order of first appearance (chains first, then affinity sets), with their
 * objects. Built once per ruleset: looking each owner's objects up by scanning every
 * chain made full and partial plans quadratic (minutes at 10,000 services).
 */
export function byOwner(rs: NftRuleset): Map<string, OwnedObjects> {
  let index = ownerIndexes.get(rs);
  if (index) return index;
  index = new Map();
  const entry = (owner: string) => {
    let e = index!.get(owner);
    if (!e) index!.set(owner, (e = { chains: [], sets: [] }));
    return e;
  };
  for (const c of rs.chains) if (c.owner) entry(c.owner).chains.push(c);
  for (const s of rs.sets) if (s.owner) entry(s.owner).sets.push(s);
  ownerIndexes.set(rs, index);
  return index;
}

/** Chains with rules for one owner and its affinity sets: add+flush, sets, rules. */
export function writeOwnerOps({ chains, sets }: OwnedObjects): NftOp[] {
  const ops: NftOp[] = [];
  // Upstream ensureChain: `add` makes it exist, `flush` drops whatever an earlier sync left.
  for (const c of chains) ops.push(op.addChain(c), op.flushChain(c.name));
  // Re-adding an existing set with another timeout updates it in place (kernel 6.x;
  // upstream relies on the same), keeping the affinity entries it holds.
  for (const s of sets) ops.push(op.addSet(s));
  for (const c of chains) for (const r of c.rules) ops.push(op.addRule(c.name, r));
  return ops;
}

function containerKind(rs: NftRuleset, name: string): 'set' | 'map' {
  return rs.sets.some((s) => s.name === name) ? 'set' : 'map';
}

export function elementsOf(rs: NftRuleset, name: string): NftElement[] {
  return (rs.sets.find((s) => s.name === name) ?? rs.maps.find((m) => m.name === name))?.elements ?? [];
}

export interface ExistingObjects {
  /** Chain names currently in the kernel's table. */
  chains: string[];
  /** Set names currently in the kernel's table. */
  sets: string[];
}

export interface FullPlanOptions {
  /** What the kernel has now (from `nft -j list table`): stale service chains get flushed, stale affinity sets deleted. */
  existing?: ExistingObjects;
  /**
   * Upstream's first sync after start does `add chain` + `delete chain` for every
   * base chain, so a changed hook or priority can be re-created (an in-place change
   * fails with EOPNOTSUPP). Default true.
   */
  recreateBaseChains?: boolean;
}

export interface NftPlan {
  ops: NftOp[];
  /** Service chains flushed by this transaction, to be deleted by a later one (see stale.ts). */
  staleChains: string[];
  /** True when this is a full sync. */
  full: boolean;
}

/**
 * A full sync, from nothing or over any earlier state of the table. Upstream reads
 * the kernel's map elements and patches them (readOrReset); a pure plan cannot, so
 * it flushes the element containers and re-adds every element — what upstream does
 * when that listing fails.
 */
export function fullPlan(rs: NftRuleset, opts: FullPlanOptions = {}): NftPlan {
  const ops: NftOp[] = [{ verb: 'add', kind: 'table', comment: rs.comment }];
  const base = rs.chains.filter((c) => c.base);
  const fixed = rs.chains.filter((c) => !c.base && !c.owner);

  if (opts.recreateBaseChains ?? true) {
    for (const c of base) ops.push(op.addChain({ name: c.name, rules: [] }), op.deleteChain(c.name));
  }
  for (const c of [...base, ...fixed]) ops.push(op.addChain(c), op.flushChain(c.name));

  // Sets and maps before the rules that look them up.
  const fixedSets = rs.sets.filter((s) => !s.owner);
  for (const s of fixedSets) ops.push(op.addSet(s));
  for (const m of rs.maps) ops.push(op.addMap(m));
  // Upstream "add+delete" so that nodeport-ips does not exist, without failing when it never did.
  if (!fixedSets.some((s) => s.name === SET.nodePortIPs)) {
    ops.push({ verb: 'add', kind: 'set', set: { name: SET.nodePortIPs, type: 'ipv4_addr', comment: 'IPs that accept NodePort traffic' } });
    ops.push(op.deleteSet(SET.nodePortIPs));
  }
  for (const s of fixedSets) if (!(ELEMENT_CONTAINERS as readonly string[]).includes(s.name)) ops.push(op.flushContainer('set', s.name));
  for (const name of ELEMENT_CONTAINERS) ops.push(op.flushContainer(containerKind(rs, name), name));

  for (const c of [...base, ...fixed]) for (const r of c.rules) ops.push(op.addRule(c.name, r));

  for (const objs of byOwner(rs).values()) ops.push(...writeOwnerOps(objs));

  for (const s of fixedSets) for (const e of s.elements) ops.push(op.addElement(s.name, e));
  for (const m of rs.maps) for (const e of m.elements) ops.push(op.addElement(m.name, e));

  const staleChains: string[] = [];
  if (opts.existing) {
    const active = new Set(rs.chains.map((c) => c.name));
    for (const name of opts.existing.chains) {
      if (isServiceChainName(name) && !active.has(name)) {
        ops.push(op.flushChain(name));
        staleChains.push(name);
      }
    }
    const activeSets = new Set(rs.sets.map((s) => s.name));
    for (const name of opts.existing.sets) {
      if (isAffinitySetName(name) && !activeSets.has(name)) ops.push(op.deleteSet(name));
    }
  }
  return { ops, staleChains, full: true };
}

/** The text of a full-sync transaction, as knftables would send it to `nft -f -`. */
export function fullTransaction(rs: NftRuleset, opts: FullPlanOptions = {}): string {
  return writeOps(fullPlan(rs, opts).ops);
}

/** A separate transaction deleting chains flushed by earlier syncs (upstream staleChains). */
export function deleteChainsTransaction(names: string[]): string {
  return writeOps(names.map(op.deleteChain));
}

/** The table as knftables' Fake.Dump writes it: every object as an `add`, rules in chain order. */
export function dumpRuleset(rs: NftRuleset): string {
  const ops: NftOp[] = [{ verb: 'add', kind: 'table', comment: rs.comment }];
  for (const c of rs.chains) ops.push(op.addChain(c));
  for (const s of rs.sets) ops.push(op.addSet(s));
  for (const m of rs.maps) ops.push(op.addMap(m));
  for (const c of rs.chains) for (const r of c.rules) ops.push(op.addRule(c.name, r));
  for (const s of rs.sets) for (const e of s.elements) ops.push(op.addElement(s.name, e));
  for (const m of rs.maps) for (const e of m.elements) ops.push(op.addElement(m.name, e));
  return writeOps(ops);
}
