// The iptables render against the real kernel, in throwaway network namespaces, with
// both backends (iptables-nft and iptables-legacy): every payload must be accepted by
// `iptables-restore --noflush --counters`, read back rule for rule by iptables-save
// (compared with normalizeRule), and partial syncs / stale-chain deletion must leave
// the kernel exactly where our fake kernel (used by the unit tests) says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../src/util/exec.ts';
import { renderIptables, type IptablesRuleset } from '../../src/proxy/iptables/render.ts';
import { chainNames, findChain, normalizeRule, parseIptablesSave, type SavedDump } from '../../src/proxy/iptables/save-parse.ts';
import { JUMP_RULES, KUBELET_JUMP_RULES, jumpRuleArgv } from '../../src/proxy/iptables/jumps.ts';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { FakeProxier, makeService, makeSlice, upstreamSettings } from '../proxy/iptables/helpers.ts';
import { overallObjects } from '../proxy/iptables/fixtures.ts';
import { hostNetfilterSnapshot, preconditions, throwawayNetns, type ThrowawayNetns } from './helpers/throwaway-netns.ts';

const BACKENDS = [
  { name: 'nft', restore: 'iptables-restore', save: 'iptables-save', iptables: 'iptables' },
  { name: 'legacy', restore: 'iptables-legacy-restore', save: 'iptables-legacy-save', iptables: 'iptables-legacy' },
] as const;
type Backend = (typeof BACKENDS)[number];

// No nfacct counters exist in a fresh namespace (and no nfacct tool here), so the
// kernel would refuse `-m nfacct`: render as kube-proxy does when it cannot create them.
const settings = upstreamSettings({ hasNfacct: false, randomFully: true });

let skip = await preconditions();
for (const b of BACKENDS) {
  if (skip) break;
  const probe = await run([b.restore, '--version'], { allowFailure: true });
  if (probe.code !== 0) skip = `${b.restore} is not installed`;
}

async function restore(node: ThrowawayNetns, b: Backend, out: IptablesRuleset): Promise<number> {
  const t = performance.now();
  await node.exec([b.restore, '-w', '--noflush', '--counters'], { input: out.text });
  return performance.now() - t;
}

async function save(node: ThrowawayNetns, b: Backend): Promise<SavedDump> {
  return parseIptablesSave((await node.exec([b.save])).stdout);
}

/** Every chain the payload declares exists with exactly the payload's rules, in order. */
function assertKernelHolds(saved: SavedDump, out: IptablesRuleset) {
  for (const table of [out.filter, out.nat]) {
    for (const chain of table.chains) {
      if (table.deletedChains.includes(chain)) {
        assert.is(findChain(saved, table.name, chain), undefined, `${table.name} ${chain} should be deleted`);
        continue;
      }
      const want = table.rules.filter((r) => r.chain === chain).map((r) => normalizeRule(['-A', chain, ...r.args]));
      const got = (findChain(saved, table.name, chain)?.rules ?? []).map((r) => normalizeRule(r.raw));
      assert.equal(got, want, `${table.name} ${chain}`);
    }
  }
}

if (skip) {
  console.log(`SKIP iptables-roundtrip: ${skip}`);
} else {
  const hostBefore = await hostNetfilterSnapshot();

  for (const b of BACKENDS) {
    test(`${b.name}: the TestOverallIPTablesRules payload restores and reads back rule for rule`, async () => {
      const node = await throwawayNetns(`ipt-${b.name}`);
      try {
        const { services, slices } = overallObjects();
        const out = renderIptables(buildProxyState({ services, slices }, settings), settings);
        await restore(node, b, out);
        assertKernelHolds(await save(node, b), out);
        // Restoring the same payload again is a no-op (chain lines flush, rules come back).
        await restore(node, b, out);
        assertKernelHolds(await save(node, b), out);
      } finally {
        await node.destroy();
      }
    });

    test(`${b.name}: jump rules and the kubelet KUBE-FIREWALL jumps install with -I and are found by -C`, async () => {
      const node = await throwawayNetns(`jmp-${b.name}`);
      try {
        const out = renderIptables(buildProxyState({ services: [], slices: [] }, settings), settings);
        await restore(node, b, out);
        for (const j of [...JUMP_RULES, ...KUBELET_JUMP_RULES]) {
          const exists = await node.exec([b.iptables, ...jumpRuleArgv(j, '-C')], { allowFailure: true });
          if (exists.code !== 0) await node.exec([b.iptables, ...jumpRuleArgv(j, '-I')]);
          await node.exec([b.iptables, ...jumpRuleArgv(j, '-C')]);
        }
        const saved = await save(node, b);
        const pre = findChain(saved, 'nat', 'PREROUTING')!.rules.map((r) => normalizeRule(r.raw));
        assert.equal(pre, [normalizeRule('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')]);
        // Prepending in upstream's order leaves the last listed jump first in INPUT.
        assert.is(findChain(saved, 'filter', 'INPUT')!.rules[0].jump, 'KUBE-FIREWALL');
      } finally {
        await node.destroy();
      }
    });

    test(`${b.name}: TestSyncProxyRulesRepeated against the kernel matches the fake kernel step by step`, async () => {
      const node = await throwawayNetns(`rep-${b.name}`);
      try {
        const p = new FakeProxier(settings);
        const step = async (what: string) => {
          // The real kernel's chain list drives stale-chain deletion, as `iptables-save -t nat` does upstream.
          const existing = chainNames(await save(node, b), 'nat');
          const state = buildProxyState({ services: [...p.services.values()], slices: [...p.slices.values()] }, settings);
          const out = renderIptables(state, settings, { existingNatChains: existing, changed: p.needFullSync ? undefined : new Set(p.changed) });
          p.sync(); // the fake kernel takes the same steps
          await restore(node, b, out);
          const saved = await save(node, b);
          for (const [table, chains] of p.kernel.tables) {
            const kernelChains = chainNames(saved, table).filter((c) => c.startsWith('KUBE-')).sort();
            assert.equal(kernelChains, [...chains.keys()].filter((c) => c.startsWith('KUBE-')).sort(), `${what}: ${table} chains`);
            for (const [chain, rules] of chains) {
              const got = (findChain(saved, table, chain)?.rules ?? []).map((r) => normalizeRule(r.raw));
              assert.equal(got, rules.map((r) => normalizeRule(r)), `${what}: ${table} ${chain}`);
            }
          }
        };
        const svc = (ns: string, ip: string, port: string, n: number) => makeService(ns, ns.replace('ns', 'svc'), (s) => {
          s.spec.clusterIP = ip;
          s.spec.ports = [{ name: port, port: n, protocol: 'TCP' }];
        });
        const slice = (ns: string, port: string, n: number, ips: string[]) => makeSlice(ns, ns.replace('ns', 'svc'), 1, (e) => {
          e.endpoints = ips.map((a) => ({ addresses: [a] }));
          e.ports = [{ name: port, port: n, protocol: 'TCP' }];
        });
        const svc2 = svc('ns2', '172.30.0.42', 'p8080', 8080);
        const svc4 = svc('ns4', '172.30.0.44', 'p80', 80);
        p.addService(svc('ns1', '172.30.0.41', 'p80', 80));
        p.addService(svc2);
        p.addSlice(slice('ns1', 'p80', 80, ['10.0.1.1']));
        p.addSlice(slice('ns2', 'p8080', 8080, ['10.0.2.1']));
        await step('initial full sync');
        p.addService(svc('ns3', '172.30.0.43', 'p80', 80));
        p.addSlice(slice('ns3', 'p80', 80, ['10.0.3.1']));
        await step('add svc3');
        p.deleteService(svc2);
        await step('delete svc2');
        p.addService(svc4);
        await step('svc4 without endpoints');
        p.addSlice(slice('ns4', 'p80', 80, ['10.0.4.1']));
        await step('svc4 endpoints');
        p.addSlice(slice('ns3', 'p80', 80, ['10.0.3.2']));
        await step('svc3 endpoint changed');
        p.addSlice(slice('ns3', 'p80', 80, ['10.0.3.2', '10.0.3.3']));
        await step('svc3 endpoint added');
        await step('no change');
        p.deleteService(svc4);
        p.needFullSync = true;
        await step('full resync after deleting svc4');
      } finally {
        await node.destroy();
      }
    });

    test(`${b.name}: a 1000-endpoint payload restores (timed)`, async () => {
      const node = await throwawayNetns(`big-${b.name}`);
      try {
        const services = [1, 2].map((i) => makeService(`ns${i}`, `svc${i}`, (s) => {
          s.spec.clusterIP = `172.30.0.4${i}`;
          s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
        }));
        const slices = [1, 2].map((i) => makeSlice(`ns${i}`, `svc${i}`, 1, (e) => {
          e.endpoints = Array.from({ length: 500 }, (_, k) => ({ addresses: [`10.${i}.${k % 256}.${Math.floor(k / 256)}`] }));
          e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
        }));
        const t = performance.now();
        const out = renderIptables(buildProxyState({ services, slices }, settings), settings);
        const renderMs = performance.now() - t;
        const restoreMs = await restore(node, b, out);
        const saved = await save(node, b);
        assert.is(chainNames(saved, 'nat').filter((c) => c.startsWith('KUBE-SEP-')).length, 1000);
        console.log(`  ${b.name}: 1000 endpoints, ${out.counts.nat} nat rules: render ${renderMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms`);
      } finally {
        await node.destroy();
      }
    });
  }

  test("the host's own iptables rules did not change", async () => {
    assert.is(await hostNetfilterSnapshot(), hostBefore);
  });
}

test.run();
