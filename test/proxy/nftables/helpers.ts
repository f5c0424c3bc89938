// Test support for the nftables renderer: upstream's comparison of nft dumps
// (helpers_test.go sortNFTablesTransaction), ProxyState literal builders with the
// conventions of upstream's NewFakeProxier, and an in-memory nft that applies
// transaction ops with the kernel's referential checks.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS, servicePortKey, type EndpointInfo, type ProxySettings, type ProxyState, type ServicePortInfo, type Protocol } from '../../../src/proxy/model.ts';
import { dumpRuleset, type NftOp } from '../../../src/proxy/nftables/transaction.ts';
import { joinParts, type NftChain, type NftElement, type NftMap, type NftRuleset, type NftSet } from '../../../src/proxy/nftables/ruleset.ts';

const here = dirname(fileURLToPath(import.meta.url));

export function readExpected(name: string): string {
  return readFileSync(join(here, name), 'utf8');
}

// Upstream objectOrder: higher sorts earlier.
const OBJECT_ORDER: Record<string, number> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 };

/**
 * Upstream sortNFTablesTransaction: drop blank and "#" lines, then a stable sort by
 * object type, then object name; rules keep their order inside a chain, everything
 * else is sorted by the whole line.
 */
export function sortNftTransaction(tx: string): string {
  const lines = tx.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const less = (li: string, lj: string): boolean => {
    const wi = li.split(' ');
    const wj = lj.split(' ');
    if (wi.length < 5 || wj.length < 5) return false;
    if (wi[1] !== wj[1]) return (OBJECT_ORDER[wi[1]] ?? 0) >= (OBJECT_ORDER[wj[1]] ?? 0);
    if (wi[4] !== wj[4]) return wi[4] < wj[4];
    if (wi[1] === 'rule') return false;
    return li < lj;
  };
  return [...lines].sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0)).join('\n');
}

/** assertNFTablesTransactionEqual: equal after sorting both sides; the failure shows a line diff. */
export function assertNftEqual(actual: string, expected: string, msg?: string): void {
  assert.fixture(sortNftTransaction(actual) + '\n', sortNftTransaction(expected) + '\n', msg);
}

// ---- NewFakeProxier conventions ----------------------------------------------------
// Pod IPs 10.0.0.0/8, ClusterIPs 172.30.0.0/16, node 192.168.0.2 (+ .1.2 and the
// external IP 192.168.99.11 on its interfaces), nodePortAddresses 192.168.0.2/32.
export const TEST_NODE = 'test-node';

export function fakeSettings(over: Partial<ProxySettings> = {}): ProxySettings {
  return {
    ...DEFAULT_SETTINGS,
    nodeName: TEST_NODE,
    nodeIPs: ['192.168.0.2', '192.168.1.2', '192.168.99.11', '127.0.0.1'],
    clusterCIDR: '10.0.0.0/8',
    nodePortAddresses: ['192.168.0.2/32', '2001:db8::1/128'],
    ...over,
  };
}

/** upstream injects masqueradeMark "0x4000" into the fake proxier. */
export const FAKE_RENDER = { masqueradeMark: '0x4000' };

export function svcPort(
  id: { namespace: string; name: string; port?: string; protocol?: Protocol },
  p: Partial<ServicePortInfo> & { clusterIP: string; port: number },
): ServicePortInfo {
  const name = { namespace: id.namespace, name: id.name, port: id.port ?? '', protocol: id.protocol ?? 'TCP' };
  const externallyAccessible = (p.nodePort ?? 0) > 0 || (p.externalIPs?.length ?? 0) > 0 || (p.loadBalancerVIPs?.length ?? 0) > 0;
  return {
    name,
    key: servicePortKey(name),
    protocol: name.protocol,
    nodePort: 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinityClientIP: false,
    stickyMaxAgeSeconds: 10800,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    healthCheckNodePort: 0,
    externallyAccessible,
    ...p,
  };
}

export function ep(ipPort: string, o: { node?: string; ready?: boolean; serving?: boolean; terminating?: boolean } = {}): EndpointInfo {
  const i = ipPort.lastIndexOf(':');
  const ready = o.ready ?? true;
  return {
    ip: ipPort.slice(0, i),
    port: Number(ipPort.slice(i + 1)),
    endpoint: ipPort,
    nodeName: o.node ?? '',
    zone: '',
    isLocal: o.node === TEST_NODE,
    ready,
    serving: o.serving ?? ready,
    terminating: o.terminating ?? false,
  };
}

export function state(entries: Array<[ServicePortInfo, EndpointInfo[]]>, serviceCIDRs = ['172.30.0.0/16']): ProxyState {
  return {
    services: new Map(entries.map(([s]) => [s.key, s])),
    endpoints: new Map(entries.map(([s, eps]) => [s.key, eps])),
    serviceCIDRs,
  };
}

// ---- an in-memory nft ---------------------------------------------------------------

export class NftError extends Error {}

/**
 * Applies ops like the kernel would, all or nothing, and refuses what the kernel
 * refuses: rules or elements naming missing chains or sets, deleting a chain or set
 * still referenced, flushing or deleting what does not exist, re-adding a map key
 * with another value. Counts operations like knftables' Fake (LastTransaction).
 */
export class FakeNft {
  chains = new Map<string, NftChain>();
  sets = new Map<string, NftSet & { els: Map<string, NftElement> }>();
  maps = new Map<string, NftMap & { els: Map<string, NftElement> }>();
  table = false;
  lastOps = 0;

  apply(ops: NftOp[]): void {
    const snapshot = this.clone();
    try {
      for (const o of ops) this.one(o);
      this.lastOps = ops.length;
    } catch (e) {
      Object.assign(this, snapshot);
      throw e;
    }
  }

  private clone() {
    const cp = <T extends { els: Map<string, NftElement> }>(m: Map<string, T>) =>
      new Map([...m].map(([k, v]) => [k, { ...v, els: new Map(v.els) }]));
    return {
      table: this.table,
      chains: new Map([...this.chains].map(([k, v]) => [k, { ...v, rules: [...v.rules] }])),
      sets: cp(this.sets),
      maps: cp(this.maps),
    };
  }

  private referenced(word: string): string | undefined {
    const re = new RegExp(`(^|[ @])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`);
    for (const c of this.chains.values()) for (const r of c.rules) if (re.test(r.rule)) return `rule in ${c.name}`;
    for (const m of this.maps.values()) for (const e of m.els.values()) if (re.test(joinParts(e.value ?? []))) return `element of ${m.name}`;
    return undefined;
  }

  private checkRefs(text: string): void {
    for (const m of text.matchAll(/(?:goto|jump) (\S+)/g)) if (!this.chains.has(m[1])) throw new NftError(`no chain ${m[1]}`);
    for (const m of text.matchAll(/@(\S+)/g)) {
      if (!this.sets.has(m[1]) && !this.maps.has(m[1])) throw new NftError(`no set ${m[1]}`);
    }
  }

  private one(o: NftOp): void {
    if (o.kind === 'table') {
      if (o.verb === 'add') this.table = true;
      else throw new NftError('table delete not modelled');
      return;
    }
    if (!this.table) throw new NftError('no table');
    switch (o.kind) {
      case 'chain': {
        if (o.verb === 'add') {
          const ex = this.chains.get(o.chain.name);
          // A plain `add chain` leaves an existing chain as it is; a hook spec must match.
          if (ex && o.chain.base && JSON.stringify(ex.base) !== JSON.stringify(o.chain.base)) throw new NftError(`chain ${o.chain.name}: EOPNOTSUPP`);
          if (!ex) this.chains.set(o.chain.name, { ...o.chain, rules: [] });
          return;
        }
        const c = this.chains.get(o.name);
        if (!c) throw new NftError(`${o.verb} chain ${o.name}: ENOENT`);
        if (o.verb === 'flush') c.rules = [];
        else {
          const by = this.referenced(o.name);
          if (by) throw new NftError(`delete chain ${o.name}: EBUSY (${by})`);
          this.chains.delete(o.name);
        }
        return;
      }
      case 'rule': {
        const c = this.chains.get(o.chain);
        if (!c) throw new NftError(`add rule: no chain ${o.chain}`);
        this.checkRefs(o.rule.rule);
        c.rules.push(o.rule);
        return;
      }
      case 'set':
      case 'map': {
        const store = (o.kind === 'set' ? this.sets : this.maps) as Map<string, { els: Map<string, NftElement> }>;
        if (o.verb === 'add') {
          const def = o.kind === 'set' ? o.set : o.map;
          const ex = store.get(def.name) as (typeof def & { els: unknown }) | undefined;
          if (ex) {
            // The type can't change; other properties (timeout) are updated in place, as kernel 6.x does.
            if (ex.type !== def.type) throw new NftError(`add ${o.kind} ${def.name}: EEXIST (type differs)`);
            Object.assign(ex, def);
            return;
          }
          store.set(def.name, { ...def, elements: [], els: new Map() } as never);
          return;
        }
        const s = store.get(o.name);
        if (!s) throw new NftError(`${o.verb} ${o.kind} ${o.name}: ENOENT`);
        if (o.verb === 'flush') s.els.clear();
        else {
          const by = this.referenced(o.name);
          if (by) throw new NftError(`delete ${o.kind} ${o.name}: EBUSY (${by})`);
          store.delete(o.name);
        }
        return;
      }
      case 'element': {
        const s = this.sets.get(o.container) ?? this.maps.get(o.container);
        if (!s) throw new NftError(`element: no set or map ${o.container}`);
        const k = joinParts(o.element.key);
        if (o.verb === 'delete') {
          if (!s.els.delete(k)) throw new NftError(`delete element ${o.container} { ${k} }: ENOENT`);
          return;
        }
        this.checkRefs(joinParts(o.element.value ?? []));
        const ex = s.els.get(k);
        if (ex && joinParts(ex.value ?? []) !== joinParts(o.element.value ?? [])) {
          throw new NftError(`add element ${o.container} { ${k} }: EEXIST`);
        }
        s.els.set(k, o.element);
        return;
      }
    }
  }

  /** knftables Fake.Dump equivalent. */
  dump(): string {
    const rs: NftRuleset = {
      family: 'ip',
      table: 'kube-proxy',
      comment: 'rules for kube-proxy',
      chains: [...this.chains.values()],
      sets: [...this.sets.values()].map(({ els, ...s }) => ({ ...s, elements: [...els.values()] })),
      maps: [...this.maps.values()].map(({ els, ...m }) => ({ ...m, elements: [...els.values()] })),
    };
    return dumpRuleset(rs);
  }
}
