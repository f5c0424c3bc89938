// Upstream TestOverallIPTablesRules: six services covering ClusterIP, LoadBalancer with
// eTP=Local, NodePort, externalIPs, LoadBalancer with source ranges + affinity, and no endpoints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareLikeUpstream } from '../../../src/proxy/iptables/compare.ts';
import { golden, render } from './helpers.ts';
import { overallObjects } from './fixtures.ts';

test('TestOverallIPTablesRules: the payload equals upstream expected text', () => {
  const { services, slices } = overallObjects();
  const out = render(services, slices);
  const cmp = compareLikeUpstream(golden('overall.expected.txt'), out.text);
  assert.ok(cmp.equal, `differs from upstream:\n${cmp.diff}`);
});

test('TestOverallIPTablesRules: rule counts match the payload (sync_proxy_rules_iptables_total)', () => {
  const { services, slices } = overallObjects();
  const out = render(services, slices);
  const natRules = out.text.split('*nat')[1].split('\n').filter((l) => l.startsWith('-A ')).length;
  const filterRules = out.text.split('*nat')[0].split('\n').filter((l) => l.startsWith('-A ')).length;
  assert.is(out.counts.nat, natRules);
  assert.is(out.counts.filter, filterRules);
  assert.is(out.nat.rules.length, natRules);
});

test('the payload has filter then nat, each closed by COMMIT', () => {
  const { services, slices } = overallObjects();
  const text = render(services, slices).text;
  assert.match(text, /^\*filter\n:KUBE-SERVICES - \[0:0\]\n:KUBE-EXTERNAL-SERVICES - \[0:0\]\n:KUBE-FORWARD - \[0:0\]\n/);
  assert.match(text, /\nCOMMIT\n\*nat\n:KUBE-SERVICES - \[0:0\]\n:KUBE-NODEPORTS - \[0:0\]\n:KUBE-POSTROUTING - \[0:0\]\n:KUBE-MARK-MASQ - \[0:0\]\n/);
  assert.ok(text.endsWith('\nCOMMIT\n'));
});

test.run();
