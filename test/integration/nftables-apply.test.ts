// nftables mode against the real nft (1.0.6 here) and kernel, in throwaway network
// namespaces: the full transaction loads, reads back as the render, and a series of
// partial transactions (add a service, change endpoints, delete a service) leaves
// the kernel with exactly the table a fresh full load of the same state gives.
// Needs root.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../src/util/exec.ts';
import { CommandError } from '../../src/util/errors.ts';
import { renderNftables, fullPlan, diffPlan } from '../../src/proxy/nftables/render.ts';
import { writeOps, deleteChainsTransaction } from '../../src/proxy/nftables/transaction.ts';
import { StaleChains } from '../../src/proxy/nftables/stale.ts';
import { applyNft, deleteTable, listTableJson, probeNft, readExisting, readTable, type NftTarget } from '../../src/proxy/nftables/apply.ts';
import { canonicalTable, findElements, mapValue, type NftTableView } from '../../src/proxy/nftables/list-parse.ts';
import { ELEMENT_CONTAINERS, joinParts, type NftRuleset } from '../../src/proxy/nftables/ruleset.ts';
import type { EndpointInfo, ServicePortInfo } from '../../src/proxy/model.ts';
import { NftablesBackend } from '../../src/proxy/nftables/backend.ts';
import { ProxyMetrics } from '../../src/proxy/metrics.ts';
import { ep, fakeSettings, state, svcPort, TEST_NODE } from '../proxy/nftables/helpers.ts';

const A: NftTarget = { netns: `svclab-it-nft-${process.pid}-a`, where: 'scratch netns A' };
const B: NftTarget = { netns: `svclab-it-nft-${process.pid}-b`, where: 'scratch netns B' };

async function precondition(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (it creates network namespaces)';
  const nft = await run(['nft', '--version'], { allowFailure: true }).catch(() => undefined);
  if (!nft || nft.code !== 0) return 'nft is not installed';
  const ip = await run(['ip', 'netns', 'list'], { allowFailure: true }).catch(() => undefined);
  if (!ip || ip.code !== 0) return '`ip netns` does not work here';
  return undefined;
}

const settings = fakeSettings(); // real mark formatting (0x004000), node 192.168.0.2
type Entries = Array<[ServicePortInfo, EndpointInfo[]]>;
const render = (entries: Entries) => renderNftables(state(entries), settings);

const svc1 = svcPort({ namespace: 'default', name: 'db-service', port: '' }, { clusterIP: '10.96.0.20', port: 3306 });
const svc2 = svcPort(
  { namespace: 'ns2', name: 'web', port: 'http' },
  {
    clusterIP: '10.96.0.30', port: 80, nodePort: 30080, loadBalancerVIPs: ['1.2.3.4'], externalIPs: ['192.168.99.22'],
    loadBalancerSourceRanges: ['203.0.113.0/25', '192.168.0.0/24'], externalPolicyLocal: true, sessionAffinityClientIP: true,
  },
);
const svc3 = svcPort({ namespace: 'ns3', name: 'empty', port: 'udp', protocol: 'UDP' }, { clusterIP: '10.96.0.40', port: 53, nodePort: 30053 });
const svc4 = svcPort({ namespace: 'ns4', name: 'late', port: '' }, { clusterIP: '10.96.0.50', port: 8080, externalIPs: ['192.168.99.50'] });

const s0: Entries = [
  [svc1, [ep('10.244.1.5:3306'), ep('10.244.0.7:3306', { node: TEST_NODE })]],
  [svc2, [ep('10.244.0.8:8080', { node: TEST_NODE }), ep('10.244.2.9:8080')]],
  [svc3, []],
];
const s1: Entries = [...s0, [svc4, [ep('10.244.2.11:8080')]]];
const s2: Entries = [[svc1, [ep('10.244.1.6:3306'), ep('10.244.0.7:3306', { node: TEST_NODE }), ep('10.244.2.12:3306')]], ...s1.slice(1)];
const s3: Entries = s2.filter(([s]) => s !== svc2);

/** Every element of every container, as the render has it and as the kernel lists it. */
function renderedElements(rs: NftRuleset): string[] {
  return ELEMENT_CONTAINERS.flatMap((name) => {
    const c = rs.maps.find((m) => m.name === name) ?? rs.sets.find((s) => s.name === name);
    return (c?.elements ?? []).map((e) => `${name} ${joinParts(e.key)}${e.value ? ` : ${joinParts(e.value)}` : ''}`);
  }).sort();
}
function kernelElements(view: NftTableView): string[] {
  return ELEMENT_CONTAINERS.flatMap((name) =>
    findElements(view, name).map((e) => `${name} ${e.key}${e.value !== undefined ? ` : ${e.value}` : ''}`),
  ).sort();
}

/** A fresh full load of `rs` into netns B, read back canonically. */
async function freshCanonical(rs: NftRuleset): Promise<string> {
  await deleteTable(B);
  await applyNft(writeOps(fullPlan(rs).ops), B);
  return canonicalTable((await readTable(B))!);
}

const skip = await precondition();
if (skip) {
  console.log(`\n  SKIP test/integration/nftables-apply.test.ts: ${skip}\n`);
  test.skip('nftables transactions against the real nft', () => {});
} else {
  test.before(async () => {
    for (const t of [A, B]) await run(['ip', 'netns', 'add', t.netns!]);
  });
  test.after(async () => {
    for (const t of [A, B]) await run(['ip', 'netns', 'del', t.netns!], { allowFailure: true });
  });

  test('the full transaction loads on this nft and reads back as the render', async () => {
    const features = await probeNft(A);
    assert.ok(features.objectComments, `nft ${features.version} takes object comments`);
    const rs = render(s0);
    await applyNft(writeOps(fullPlan(rs).ops), A, features);
    const view = (await readTable(A))!;
    assert.equal(kernelElements(view), renderedElements(rs));
    assert.equal([...view.chains.keys()].sort(), rs.chains.map((c) => c.name).sort());
    for (const c of rs.chains) assert.is(view.chains.get(c.name)!.rules.length, c.rules.length, `rules in ${c.name}`);
    assert.equal([...view.sets.keys()].sort(), rs.sets.map((s) => s.name).sort());
    // The assertion a lab makes on every node:
    assert.match(mapValue(view, 'service-ips', '10.96.0.20 . tcp . 3306') ?? '', /^goto service-[A-Z2-7]{8}-default\/db-service\/tcp\/$/);
    assert.is(mapValue(view, 'no-endpoint-services', '10.96.0.40 . udp . 53'), 'goto reject-chain');
    // And what a person would see:
    const text = (await run(['ip', 'netns', 'exec', A.netns!, 'nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
    assert.match(text, /10\.96\.0\.20 \. tcp \. 3306 : goto service-[A-Z2-7]{8}-default\/db-service\/tcp\//);
    assert.match(text, /masquerade fully-random/);
    assert.is(canonicalTable(view), await freshCanonical(rs), 'same table as a fresh load elsewhere');
  });

  test('partial transactions (add a service, change endpoints, delete a service) match a fresh full load', async () => {
    const stale = new StaleChains();
    let now = 0;
    let prev = render(s0);
    for (const [what, entries] of [['add a service', s1], ['change endpoints', s2], ['delete a service', s3]] as const) {
      now += 2000; // upstream deletes stale chains >= 1s after flushing them
      const due = stale.due(now);
      if (due.length) {
        stale.forget(due);
        await applyNft(deleteChainsTransaction(due), A);
      }
      const next = render(entries as Entries);
      const plan = diffPlan(prev, next);
      assert.not.ok(plan.full, `${what}: a partial sync`);
      await applyNft(writeOps(plan.ops), A);
      stale.note(plan.staleChains, now);
      stale.revive(next);
      prev = next;

      const view = (await readTable(A))!;
      assert.equal(kernelElements(view), renderedElements(next), `${what}: elements`);
      for (const c of plan.staleChains) {
        assert.is(view.chains.get(c)?.rules.length, 0, `${what}: ${c} flushed, kept for later deletion`);
        assert.is(findElements(view, 'service-ips', { value: `goto ${c}` }).length, 0, `${what}: nothing points at ${c}`);
      }
      if (what === 'delete a service') {
        assert.ok(plan.staleChains.some((c) => c.startsWith('firewall-')), 'the deleted service had a firewall chain');
        assert.not.ok([...view.sets.keys()].some((s) => s.includes('ns2/web')), 'its affinity sets are gone at once');
      }
    }
    // Once the stale chains are gone the table is exactly a fresh full load of the last state.
    const due = stale.due(now + 2000);
    assert.ok(due.length > 0);
    await applyNft(deleteChainsTransaction(due), A);
    assert.is(canonicalTable((await readTable(A))!), await freshCanonical(prev));
  });

  test('a full sync over a changed table (restart) converges too, flushing chains it does not know', async () => {
    const existing = await readExisting(A);
    const rs = render(s0);
    const plan = fullPlan(rs, { existing });
    await applyNft(writeOps(plan.ops), A);
    assert.ok(plan.staleChains.length > 0, 'chains of s3 that s0 lacks are stale');
    await applyNft(deleteChainsTransaction(plan.staleChains), A);
    assert.is(canonicalTable((await readTable(A))!), await freshCanonical(rs));
  });

  test('a failing transaction changes nothing and says which command failed', async () => {
    const before = await listTableJson(A);
    // Planned against a state the kernel does not have: the element to delete is missing.
    const ghost = render([...s0, [svcPort({ namespace: 'x', name: 'ghost', port: '' }, { clusterIP: '10.96.0.99', port: 1 }), []]]);
    const text = writeOps(diffPlan(ghost, render(s0)).ops);
    try {
      await applyNft(text, A);
      assert.unreachable('nft accepted a delete of a missing element');
    } catch (e) {
      assert.instance(e, CommandError);
      assert.match((e as Error).message, /line \d+: Error: .*\n\s+delete element ip kube-proxy/);
      assert.match((e as Error).message, /scratch netns A/);
    }
    assert.is(await listTableJson(A), before);
  });

  test('the backend: full sync first, partial after, metrics, cleanup removes the table', async () => {
    await deleteTable(A);
    const backend = new NftablesBackend(settings, { netns: A.netns });
    const metrics = new ProxyMetrics();
    await backend.setup();
    assert.is((await backend.sync(state(s0), undefined, metrics)).full, true);
    const partial = await backend.sync(state(s1), new Set([svc4.key]), metrics);
    assert.is(partial.full, false);
    assert.ok(partial.written! > 0 && partial.written! < 20, `a small transaction (${partial.written} ops)`);
    assert.is(canonicalTable((await readTable(A))!), await freshCanonical(render(s1)));
    assert.is((await backend.sync(state(s1), new Set(), metrics)).written, 0);
    assert.is(metrics.nftSyncFailures.get(), 0);
    await backend.cleanup();
    assert.is(await listTableJson(A), undefined);
  });
}

test.run();
