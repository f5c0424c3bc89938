// The iptables mode's apply side against a real kernel (a throwaway network
// namespace): first sync full, then partial syncs that write only the changed
// service's chains; a partial restore that fails falls back to a full sync
// (counted in the metric upstream names); a flushed table is noticed through
// the canary chain; a fresh backend deletes chains of services that are gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwawayNetns, preconditions, hostNetfilterSnapshot } from './helpers/throwaway-netns.ts';
import { IptablesBackend } from '../../src/proxy/iptables/backend.ts';
import { ProxyMetrics } from '../../src/proxy/metrics.ts';
import { DEFAULT_SETTINGS, type ProxySettings } from '../../src/proxy/model.ts';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { makeService, makeSlice } from '../proxy/iptables/helpers.ts';
import { chainNames, parseIptablesSave } from '../../src/proxy/iptables/save-parse.ts';
import { servicePortChainName } from '../../src/proxy/chain-names.ts';

const settings: ProxySettings = { ...DEFAULT_SETTINGS, nodeName: 'node-01', nodeIPs: ['192.168.49.2'], clusterCIDR: '10.244.0.0/16' };

function objects(n: number, endpointsOf: (i: number) => string[]) {
  const services = [];
  const slices = [];
  for (let i = 0; i < n; i++) {
    services.push(makeService('default', `svc${i}`, (s) => {
      s.spec.clusterIP = `10.96.0.${10 + i}`;
      s.spec.ports = [{ port: 80, protocol: 'TCP', targetPort: 80 }];
    }));
    slices.push(makeSlice('default', `svc${i}`, 1, (eps) => {
      eps.endpoints = endpointsOf(i).map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-02' }));
      eps.ports = [{ name: '', port: 80, protocol: 'TCP' }];
    }));
  }
  return { services, slices };
}

const state = (n: number, eps: (i: number) => string[]) => buildProxyState(objects(n, eps), settings);
const two = (i: number) => [`10.244.1.${i + 2}`, `10.244.2.${i + 2}`];

const skip = await preconditions();
if (skip) {
  console.log(`\n  SKIP test/integration/iptables-backend.test.ts: ${skip}\n`);
  test.skip('iptables backend against a real kernel', () => {});
} else {
  test('full first, then partial syncs; a failed partial restore falls back to full; the canary notices a flush; a restart removes stale chains', async () => {
    const hostBefore = await hostNetfilterSnapshot();
    const ns = await throwawayNetns('ipt');
    try {
      const metrics = new ProxyMetrics();
      const backend = new IptablesBackend(settings, { runner: ns, canaryIntervalMs: 0 });
      await backend.setup();
      const save = async () => parseIptablesSave((await ns.exec(['iptables-nft-save', '-t', 'nat'])).stdout);

      const first = await backend.sync(state(3, two), undefined, metrics);
      assert.ok(first.full);
      assert.ok(chainNames(await save(), 'nat').includes(servicePortChainName('default/svc2', 'tcp')));

      // One service changes: a partial sync writes far fewer rules than exist.
      const changed = state(3, (i) => (i === 1 ? [two(i)[0]] : two(i)));
      const partial = await backend.sync(changed, new Set(['default/svc1']), metrics);
      assert.not.ok(partial.full);
      assert.ok(metrics.iptablesLast.get({ table: 'nat' }) < metrics.iptablesTotal.get({ table: 'nat' }), 'a partial sync wrote every rule');
      const svc1 = (await save()).tables.find((t) => t.name === 'nat')!.chains.find((c) => c.name === servicePortChainName('default/svc1', 'tcp'))!;
      assert.is(svc1.rules.filter((r) => r.jump?.startsWith('KUBE-SEP-')).length, 1);

      // Someone deletes svc0's chains behind our back: the next partial restore
      // (which refers to them from KUBE-SERVICES) fails, and a full sync repairs it.
      const svc0 = servicePortChainName('default/svc0', 'tcp');
      await ns.exec(['iptables-nft', '-t', 'nat', '-F', 'KUBE-SERVICES']);
      await ns.exec(['iptables-nft', '-t', 'nat', '-F', svc0]);
      await ns.exec(['iptables-nft', '-t', 'nat', '-X', svc0]);
      const repaired = await backend.sync(state(3, two), new Set(['default/svc1']), metrics);
      assert.ok(repaired.full, 'the failed partial restore did not fall back to a full sync');
      assert.is(metrics.partialRestoreFailures.get(), 1);
      assert.ok(chainNames(await save(), 'nat').includes(svc0));

      // A flushed table (firewalld reload, `iptables -t nat -F; -X`) removes the canary: noticed.
      assert.not.ok(await backend.lostState());
      await ns.exec(['iptables-nft', '-t', 'nat', '-F']);
      await ns.exec(['iptables-nft', '-t', 'nat', '-X']);
      assert.ok(await backend.lostState());

      // A restarted proxy (a fresh backend) converges and deletes chains of services gone meanwhile.
      await backend.sync(state(3, two), undefined, metrics);
      const restarted = new IptablesBackend(settings, { runner: ns });
      await restarted.setup();
      await restarted.sync(state(2, two), undefined, new ProxyMetrics());
      const after = chainNames(await save(), 'nat');
      assert.not.ok(after.includes(servicePortChainName('default/svc2', 'tcp')), 'the gone service chain survived a restart');
      assert.ok(after.includes(servicePortChainName('default/svc1', 'tcp')));
    } finally {
      await ns.destroy();
    }
    assert.is(await hostNetfilterSnapshot(), hostBefore, "the host's own netfilter rules changed");
  });
}

test.run();
