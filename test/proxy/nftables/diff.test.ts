import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderNftables, diffPlan, fullPlan, diffTransaction, dumpRuleset } from '../../../src/proxy/nftables/render.ts';
import { op, writeOps } from '../../../src/proxy/nftables/transaction.ts';
import { reusedService } from '../../../src/proxy/nftables/fragments.ts';
import { StaleChains } from '../../../src/proxy/nftables/stale.ts';
import type { NftRuleset } from '../../../src/proxy/nftables/ruleset.ts';
import type { EndpointInfo, ServicePortInfo } from '../../../src/proxy/model.ts';
import { FAKE_RENDER, FakeNft, assertNftEqual, ep, fakeSettings, readExpected, state, svcPort } from './helpers.ts';

const base = readExpected('base-rules.expected.txt');
const steps = new Map(
  readExpected('sync-repeated.expected.txt')
    .split(/^### /m)
    .slice(1)
    .map((block) => [block.slice(0, block.indexOf('\n')), block.slice(block.indexOf('\n') + 1)] as const),
);
const expectedAfter = (step: string) => base + steps.get(step)!;

/**
 * Upstream's sync loop over the in-memory nft: stale-chain deletion first, then one transaction.
 * With `reuse`, each sync re-renders only the service ports whose inputs changed (what the
 * backend's partial sync does) and checks the result against a render of everything.
 */
class Syncer {
  nft = new FakeNft();
  stale = new StaleChains();
  prev: NftRuleset | undefined;
  now = 0;
  deleted: string[] = [];
  private inputs = new Map<string, string>();

  constructor(private readonly reuse = false) {}

  sync(services: Array<[ServicePortInfo, EndpointInfo[]]>): void {
    const due = this.stale.due(this.now);
    if (due.length) {
      this.stale.forget(due);
      this.nft.apply(due.map(op.deleteChain));
      this.deleted.push(...due);
    }
    const inputs = new Map(services.map(([s, eps]) => [s.key, JSON.stringify([s, eps])]));
    const changed = new Set([...new Set([...inputs.keys(), ...this.inputs.keys()])].filter((k) => inputs.get(k) !== this.inputs.get(k)));
    this.inputs = inputs;
    let next = renderNftables(state(services), fakeSettings(), FAKE_RENDER);
    if (this.reuse && this.prev) {
      const fresh = next;
      next = renderNftables(state(services), fakeSettings(), { ...FAKE_RENDER, reuse: { previous: this.prev, changed } });
      assert.is(dumpRuleset(next), dumpRuleset(fresh), 'reusing unchanged services renders what a full render does');
      assert.equal(next.noLocalEndpoints, fresh.noLocalEndpoints);
    }
    const plan = this.prev ? diffPlan(this.prev, next) : fullPlan(next);
    if (this.prev) {
      // Rulesets from renderNftables diff by their changed services only; plain copies compare everything.
      assert.is(writeOps(plan.ops), writeOps(diffPlan(structuredClone(this.prev), structuredClone(next)).ops), 'both diff paths agree');
    }
    this.nft.apply(plan.ops);
    this.stale.note(plan.staleChains, this.now);
    this.stale.revive(next);
    this.prev = next;
  }

  /** ageStaleChains() */
  age(): void {
    this.now += 2000;
  }
}

const svc1 = svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80 });
const svc2 = svcPort({ namespace: 'ns2', name: 'svc2', port: 'p8080' }, { clusterIP: '172.30.0.42', port: 8080 });
const svc3 = svcPort({ namespace: 'ns3', name: 'svc3', port: 'p80' }, { clusterIP: '172.30.0.43', port: 80 });
const svc4 = svcPort({ namespace: 'ns4', name: 'svc4', port: 'p80' }, { clusterIP: '172.30.0.44', port: 80 });
const e1: [ServicePortInfo, EndpointInfo[]] = [svc1, [ep('10.0.1.1:80')]];

for (const reuse of [false, true]) test(`TestSyncProxyRulesRepeated${reuse ? ', re-rendering only changed services' : ''}: each partial sync leaves upstream's table with upstream's operation count`, () => {
  const s = new Syncer(reuse);
  s.sync([e1, [svc2, [ep('10.0.2.1:8080')]]]);
  assertNftEqual(s.nft.dump(), expectedAfter('initial'), 'initial');

  s.sync([e1, [svc2, [ep('10.0.2.1:8080')]], [svc3, [ep('10.0.3.1:80')]]]);
  assertNftEqual(s.nft.dump(), expectedAfter('add-svc3'), 'add svc3');
  assert.is(s.nft.lastOps, 10, 'add svc3: 2 elements + add/flush 2 chains + 4 rules');

  s.sync([e1, [svc3, [ep('10.0.3.1:80')]]]);
  assertNftEqual(s.nft.dump(), expectedAfter('delete-svc2'), 'delete svc2');
  assert.is(s.nft.lastOps, 4, 'delete svc2: 2 element deletes + 2 chain flushes');
  assert.equal(s.stale.size, 2);

  s.age();
  s.sync([e1, [svc3, [ep('10.0.3.1:80')]]]);
  assertNftEqual(s.nft.dump(), expectedAfter('stale-deleted'), 'stale chains deleted');
  assert.is(s.nft.lastOps, 0, 'the deletes ran in their own transaction');
  assert.equal(s.deleted.sort(), ['endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080', 'service-MHHHYRWA-ns2/svc2/tcp/p8080']);

  s.sync([e1, [svc3, [ep('10.0.3.1:80')]], [svc4, []]]);
  assertNftEqual(s.nft.dump(), expectedAfter('add-svc4-no-endpoints'));
  assert.is(s.nft.lastOps, 2);

  const e4: [ServicePortInfo, EndpointInfo[]] = [svc4, [ep('10.0.4.1:80')]];
  s.sync([e1, [svc3, [ep('10.0.3.1:80')]], e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('add-svc4-endpoints'));
  assert.is(s.nft.lastOps, 10);

  s.sync([e1, [svc3, [ep('10.0.3.2:80')]], e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('change-svc3-endpoint'), 'old endpoint chain flushed, not deleted');
  assert.is(s.nft.lastOps, 9);

  s.age();
  const full3: [ServicePortInfo, EndpointInfo[]] = [svc3, [ep('10.0.3.2:80'), ep('10.0.3.3:80')]];
  s.sync([e1, full3, e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('add-svc3-endpoint'));
  assert.is(s.nft.lastOps, 12);

  s.sync([e1, [svc3, []], e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('empty-svc3'), 'chains of an emptied service are flushed');
  assert.is(s.nft.lastOps, 5);
  assert.is(s.stale.size, 3);

  s.sync([e1, full3, e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('restore-svc3'));
  assert.is(s.nft.lastOps, 14);
  assert.is(s.stale.size, 0, 'restored chains are no longer stale');

  s.sync([e1, [svc3, []], e4]);
  s.age();
  s.sync([e1, full3, e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('restore-svc3'), 'deleted, then recreated');

  s.sync([e1, full3, e4]);
  assertNftEqual(s.nft.dump(), expectedAfter('restore-svc3'));
  assert.is(s.nft.lastOps, 0, 'no change, empty transaction');
});

const E1 = 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80';
const E2 = 'endpoint-MLKSHPWN-ns1/svc1/tcp/p80__10.180.2.1/80';
const S1 = 'service-ULMVA6XW-ns1/svc1/tcp/p80';
const p80 = svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80 });
const svc6 = svcPort({ namespace: 'ns6', name: 'svc6', port: 'p80' }, { clusterIP: '172.30.0.46', port: 80 });
const r = (entries: Array<[ServicePortInfo, EndpointInfo[]]>, cidrs?: string[]) => renderNftables(state(entries, cidrs), fakeSettings(), FAKE_RENDER);

test('diffTransaction text: a replaced endpoint rewrites the service, flushes the old endpoint chain, touches no element', () => {
  const text = diffTransaction(r([[p80, [ep('10.180.0.1:80')]]]), r([[p80, [ep('10.180.2.1:80')]]]));
  assert.equal(text.trimEnd().split('\n'), [
    `add chain ip kube-proxy ${E2}`,
    `flush chain ip kube-proxy ${E2}`,
    `add chain ip kube-proxy ${S1}`,
    `flush chain ip kube-proxy ${S1}`,
    `add rule ip kube-proxy ${E2} ip saddr 10.180.2.1 jump mark-for-masquerade`,
    `add rule ip kube-proxy ${E2} meta l4proto tcp dnat to 10.180.2.1:80`,
    `add rule ip kube-proxy ${S1} ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
    `add rule ip kube-proxy ${S1} numgen random mod 1 vmap { 0 : goto ${E2} }`,
    `flush chain ip kube-proxy ${E1}`,
  ]);
});

test('diffTransaction text: a deleted service is flushed before its elements go, and no chain is deleted yet', () => {
  const plan = diffPlan(r([[p80, [ep('10.180.0.1:80')]], [svc6, []]]), r([[svc6, []]]));
  assert.equal(plan.staleChains, [E1, S1]);
  assert.equal(diffTransaction(r([[p80, [ep('10.180.0.1:80')]], [svc6, []]]), r([[svc6, []]])).trimEnd().split('\n'), [
    `flush chain ip kube-proxy ${E1}`,
    `flush chain ip kube-proxy ${S1}`,
    'delete element ip kube-proxy cluster-ips { 172.30.0.41 }',
    'delete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }',
  ]);
});

test('eTP=Local losing its local endpoint: NodePort traffic gets a drop entry, the local chains go stale', () => {
  const withEps = r([[svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalPolicyLocal: true }), [ep('10.180.2.1:80', { node: 'test-node' })]]]);
  const remoteOnly = r([[svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalPolicyLocal: true }), [ep('10.180.0.1:80')]]]);
  const text = diffTransaction(withEps, remoteOnly);
  assert.match(text, /^add element ip kube-proxy no-endpoint-nodeports \{ tcp \. 3001 comment "ns1\/svc1:p80" : drop \}$/m);
  const nft = new FakeNftFrom(withEps);
  const plan = diffPlan(withEps, remoteOnly);
  nft.apply(plan.ops);
  assert.equal(plan.staleChains.sort(), [E2, 'local-ULMVA6XW-ns1/svc1/tcp/p80']);
  nft.apply(plan.staleChains.map(op.deleteChain));
  assertNftEqual(nft.dump(), new FakeNftFrom(remoteOnly).dump());
});

test('affinity timeout change re-adds the sets with the new timeout in a partial sync', () => {
  const a = (t: number) => r([[svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80, sessionAffinityClientIP: true, stickyMaxAgeSeconds: t }), [ep('10.180.0.1:80')]]]);
  const nft = new FakeNftFrom(a(10800));
  const plan = diffPlan(a(10800), a(60));
  assert.not.ok(plan.full);
  nft.apply(plan.ops);
  assertNftEqual(nft.dump(), new FakeNftFrom(a(60)).dump());
  assert.match(nft.dump(), /timeout 60s/);
});

test('a change outside the services (ServiceCIDRs) makes the sync a full one', () => {
  const before = r([[p80, [ep('10.180.0.1:80')]]]);
  const after = r([[p80, [ep('10.180.0.1:80')]]], ['172.30.0.0/16', '172.31.0.0/16']);
  const plan = diffPlan(before, after);
  assert.ok(plan.full);
  const nft = new FakeNftFrom(before);
  nft.apply(plan.ops);
  assertNftEqual(nft.dump(), new FakeNftFrom(after).dump());
  assert.match(nft.dump(), /ip daddr \{ 172\.30\.0\.0\/16,172\.31\.0\.0\/16 \} drop/);
});

test('no change, no operations', () => {
  const rs = r([[p80, [ep('10.180.0.1:80')]], [svc6, []]]);
  assert.equal(diffPlan(rs, r([[p80, [ep('10.180.0.1:80')]], [svc6, []]])).ops, []);
  assert.is(diffTransaction(rs, rs), '');
});

test('a partial render reuses unchanged services as they were and re-renders the changed ones', () => {
  const prev = r([[p80, [ep('10.180.0.1:80')]], [svc6, []]]);
  const next = renderNftables(state([[p80, [ep('10.180.2.1:80')]], [svc6, []]]), fakeSettings(), {
    ...FAKE_RENDER,
    reuse: { previous: prev, changed: new Set([p80.key]) },
  });
  assert.ok(reusedService(prev, next, svc6.key), 'svc6 reused');
  assert.not.ok(reusedService(prev, next, p80.key), 'svc1 re-rendered');
  assert.is(diffTransaction(prev, next), diffTransaction(prev, r([[p80, [ep('10.180.2.1:80')]], [svc6, []]])));
  // "ns/svc" names every port of the Service; other settings reuse nothing.
  const byService = renderNftables(state([[p80, [ep('10.180.0.1:80')]], [svc6, []]]), fakeSettings(), { ...FAKE_RENDER, reuse: { previous: prev, changed: new Set(['ns1/svc1']) } });
  assert.not.ok(reusedService(prev, byService, p80.key));
  const otherCIDR = renderNftables(state([[p80, [ep('10.180.0.1:80')]], [svc6, []]]), fakeSettings({ clusterCIDR: '10.1.0.0/16' }), { ...FAKE_RENDER, reuse: { previous: prev, changed: new Set() } });
  assert.not.ok(reusedService(prev, otherCIDR, svc6.key));
});

/** A fake kernel holding `rs` after one full sync. */
class FakeNftFrom extends FakeNft {
  constructor(rs: NftRuleset) {
    super();
    this.apply(fullPlan(rs).ops);
  }
}

test.run();
