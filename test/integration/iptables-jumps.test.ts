// A full sync in iptables mode checks its jump rules against one iptables-save of
// every table, so when they are all there it runs exactly two commands (save and
// restore), and a jump removed behind its back is put back by one more --noflush
// restore. Setup is one save and one restore, and leaves the same rules, in the
// same order, as upstream's -N/-C/-I one by one. Real kernel, a throwaway
// namespace, both iptables backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwawayNetns, preconditions } from './helpers/throwaway-netns.ts';
import { IptablesBackend, iptablesTools, type IptablesFlavor } from '../../src/proxy/iptables/backend.ts';
import { JUMP_RULES, KUBELET_JUMP_RULES } from '../../src/proxy/iptables/jumps.ts';
import { jumpRuleArgs, type CommandRunner } from '../../src/proxy/jump-rules.ts';
import { ProxyMetrics } from '../../src/proxy/metrics.ts';
import { DEFAULT_SETTINGS, type ProxySettings } from '../../src/proxy/model.ts';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { makeService, makeSlice } from '../proxy/iptables/helpers.ts';

const settings: ProxySettings = { ...DEFAULT_SETTINGS, nodeName: 'node-01', nodeIPs: ['192.168.49.2'], clusterCIDR: '10.244.0.0/16' };
const state = buildProxyState(
  {
    services: [makeService('default', 'web', (s) => {
      s.spec.clusterIP = '10.96.0.20';
      s.spec.ports = [{ port: 80, protocol: 'TCP', targetPort: 80 }];
    })],
    slices: [makeSlice('default', 'web', 1, (e) => {
      e.endpoints = [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-02' }];
      e.ports = [{ name: '', port: 80, protocol: 'TCP' }];
    })],
  },
  settings,
);

/** Runs commands through `inner` and remembers each command's first two words. */
function counting(inner: CommandRunner): CommandRunner & { seen: string[] } {
  const seen: string[] = [];
  return {
    name: inner.name,
    seen,
    exec(argv, opts) {
      seen.push(argv.filter((w) => w !== '-w').slice(0, 4).join(' '));
      return inner.exec(argv, opts);
    },
  };
}

const skip = await preconditions();
if (skip) {
  console.log(`\n  SKIP test/integration/iptables-jumps.test.ts: ${skip}\n`);
  test.skip('iptables jump rules from one save', () => {});
} else {
  for (const flavor of ['nft', 'legacy'] as IptablesFlavor[]) {
    test(`iptables-${flavor}: a full sync with every jump in place runs save + restore only; a removed jump comes back`, async () => {
      const ns = await throwawayNetns(`jmp${flavor[0]}`);
      try {
        const tools = iptablesTools(flavor);
        const runner = counting(ns);
        const backend = new IptablesBackend(settings, { runner, iptablesBackend: flavor });
        await backend.setup();
        assert.equal(runner.seen, [tools.save, `${tools.restore} --noflush`], 'setup: one save, one restore');
        // The same rules, in the same order, as upstream's EnsureChain + EnsureRule(Prepend) one by one.
        const ours = await ns.exec([tools.save]);
        const ref = await throwawayNetns(`jmr${flavor[0]}`);
        try {
          for (const t of ['mangle', 'nat', 'filter']) await ref.exec([tools.iptables, '-w', '-t', t, '-N', 'KUBE-PROXY-CANARY']);
          for (const j of [...JUMP_RULES, ...(settings.localhostNodePorts ? KUBELET_JUMP_RULES : [])]) {
            await ref.exec([tools.iptables, '-w', '-t', j.table, '-N', j.to], { allowFailure: true });
            await ref.exec([tools.iptables, '-w', '-t', j.table, '-I', j.from, '1', ...jumpRuleArgs(j)]);
          }
          const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '')).sort().join('\n');
          const byChain = (s: string) => s.split('\n').filter((l) => l.startsWith('-A ')).join('\n');
          assert.is(strip(ours.stdout), strip((await ref.exec([tools.save])).stdout));
          assert.is(byChain(ours.stdout), byChain((await ref.exec([tools.save])).stdout), 'rule order within each chain');
        } finally {
          await ref.destroy();
        }

        runner.seen.length = 0;
        await backend.sync(state, undefined, new ProxyMetrics());
        assert.equal(runner.seen, [tools.save, `${tools.restore} --noflush --counters`]);

        // Someone deletes the nat OUTPUT jump: the next full sync checks that one and inserts it.
        const jump = JUMP_RULES.find((j) => j.table === 'nat' && j.from === 'OUTPUT')!;
        await ns.exec([tools.iptables, '-w', '-t', 'nat', '-D', 'OUTPUT', ...jumpRuleArgs(jump)]);
        runner.seen.length = 0;
        await backend.sync(state, undefined, new ProxyMetrics());
        assert.equal(runner.seen, [tools.save, `${tools.restore} --noflush`, `${tools.restore} --noflush --counters`]);
        const check = await ns.exec([tools.iptables, '-w', '-t', 'nat', '-C', 'OUTPUT', ...jumpRuleArgs(jump)], { allowFailure: true });
        assert.is(check.code, 0, 'the jump is back');
        const outputRules = (await ns.exec([tools.iptables, '-w', '-t', 'nat', '-S', 'OUTPUT'])).stdout.trim().split('\n');
        assert.is(outputRules.filter((l) => l.includes('KUBE-SERVICES')).length, 1, 'and only once');
      } finally {
        await ns.destroy();
      }
    });
  }
}

test.run();
