// IPVS mode against this host's real kernel, inside a throwaway namespace.
// This kernel has no ip_vs and no dummy links, so: the mode must refuse
// precisely; and the half that does not need IPVS — ipsets through
// `ipset restore`, the iptables payload and jump rules — is applied for real,
// read back with `ipset save` / `iptables-save`, and re-synced as a no-op.
// The IPVS table and kube-ipvs0 run on the libvirt driver's VMs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyIpsetsAndIptables, applyIpvs, cleanupIpvs } from '../../src/proxy/ipvs/apply.ts';
import { diffIpvs, type IpvsKernelState } from '../../src/proxy/ipvs/diff.ts';
import { ipvsKernelError, ipvsKernelSupport } from '../../src/proxy/ipvs/kernel.ts';
import { parseIpsetSave } from '../../src/proxy/ipvs/parse.ts';
import { renderIpvs } from '../../src/proxy/ipvs/render.ts';
import { EnvironmentError } from '../../src/util/errors.ts';
import { run } from '../../src/util/exec.ts';
import { sampleSettings, sampleState } from '../proxy/ipvs/sample.ts';
import { hostNetfilterSnapshot, preconditions, throwawayNetns, type ThrowawayNetns } from './helpers/throwaway-netns.ts';

const skip = await preconditions();
const hasIpset = (await run(['ipset', '--version'], { allowFailure: true })).code === 0;

async function ipsetsIn(node: ThrowawayNetns): Promise<IpvsKernelState> {
  const saved = await node.exec(['ipset', 'save']);
  return { virtualServers: [], ipsets: parseIpsetSave(saved.stdout), dummyAddresses: [] };
}

if (skip || !hasIpset) {
  console.log(`SKIP ipvs-netns: ${skip ?? 'ipset is not installed'}`);
} else {
  test('on this kernel IPVS mode says exactly why it cannot run', async () => {
    const node = await throwawayNetns('ipvs');
    try {
      const report = await ipvsKernelSupport(node);
      const kernel = (await run(['uname', '-r'])).stdout.trim();
      assert.is(report.kernel, kernel);
      if (report.ipvs && report.dummy) {
        console.log(`NOTE: kernel ${kernel} has ip_vs and dummy links; the refusal path is not exercised here`);
        return;
      }
      const err = ipvsKernelError(report)!;
      assert.instance(err, EnvironmentError);
      if (!report.ipvs) assert.match(err.message, `this kernel ${kernel} has none: /proc/net/ip_vs is missing`);
      // applyIpvs checks first and changes nothing on refusal.
      const r = renderIpvs(sampleState, sampleSettings);
      try {
        await applyIpvs(node, r, { setup: true });
        assert.unreachable('applyIpvs should refuse');
      } catch (e) {
        assert.instance(e, EnvironmentError);
      }
      assert.is((await node.exec(['ipset', 'list', '-n'])).stdout.trim(), '');
    } finally {
      await node.destroy();
    }
  });

  test('ipsets and the iptables payload apply for real, read back equal, and re-sync as a no-op', async () => {
    const hostBefore = await hostNetfilterSnapshot();
    const node = await throwawayNetns('ipvs');
    try {
      const r = renderIpvs(sampleState, sampleSettings);
      const plan = diffIpvs(await ipsetsIn(node), r);
      assert.is(plan.ipset.filter((l) => l.startsWith('create ')).length, 17);
      await applyIpsetsAndIptables(node, r, plan);

      // What the kernel holds is what was rendered.
      const sets = (await ipsetsIn(node)).ipsets;
      for (const want of r.ipsets) {
        const have = sets.find((s) => s.name === want.name);
        assert.ok(have, `set ${want.name} exists`);
        assert.is(have!.type, want.type);
        assert.equal([...have!.entries].sort(), [...want.entries].sort(), want.name);
      }
      const save1 = (await node.exec(['iptables-save'])).stdout;
      // iptables-save prints the address match first, wherever the payload put it.
      assert.match(save1, '-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ');
      assert.match(save1, '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE');
      assert.match(save1, '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
      assert.match(save1, '-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER');

      // Second sync: nothing to change in the sets, and the rules are not duplicated.
      const plan2 = diffIpvs(await ipsetsIn(node), r);
      assert.equal(plan2.ipset, []);
      await applyIpsetsAndIptables(node, r, plan2);
      const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');
      assert.is(strip((await node.exec(['iptables-save'])).stdout), strip(save1));

      // A service goes away: only its entries are deleted.
      const st = { ...sampleState, services: new Map(sampleState.services) };
      st.services.delete('default/web:http');
      const r3 = renderIpvs(st, sampleSettings);
      const plan3 = diffIpvs(await ipsetsIn(node), r3);
      assert.equal(plan3.ipset, [
        'del KUBE-LOOP-BACK 10.244.1.7,tcp:8080,10.244.1.7', 'del KUBE-CLUSTER-IP 10.96.0.20,tcp:80',
        'del KUBE-NODE-PORT-TCP 30080', 'del KUBE-IPVS-IPS 10.96.0.20',
      ]);
      await applyIpsetsAndIptables(node, r3, plan3);
      assert.equal(diffIpvs(await ipsetsIn(node), r3).ipset, []);
      // The NodePort set is empty now, so its KUBE-NODE-PORT rule is gone too.
      assert.not.match((await node.exec(['iptables-save', '-t', 'nat'])).stdout, 'KUBE-NODE-PORT-TCP');

      await cleanupIpvs(node);
      assert.is((await node.exec(['ipset', 'list', '-n'])).stdout.trim(), '');
      assert.not.match((await node.exec(['iptables-save'])).stdout, 'KUBE-');
    } finally {
      await node.destroy();
    }
    assert.is(await hostNetfilterSnapshot(), hostBefore, 'the host netns is untouched');
  });

  test.run();
}
