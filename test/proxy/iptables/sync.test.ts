// Repeated syncs: partial restores (MinimizeIPTablesRestore), stale chain deletion,
// rule-count metrics, large-cluster mode. Upstream TestSyncProxyRulesRepeated,
// TestSyncProxyRulesLargeClusterMode and TestNoEndpointsMetric.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareLikeUpstream } from '../../../src/proxy/iptables/compare.ts';
import { parseIptablesSave } from '../../../src/proxy/iptables/save-parse.ts';
import type { IptablesRuleset } from '../../../src/proxy/iptables/render.ts';
import { FakeProxier, golden, makeService, makeSlice, render, upstreamSettings } from './helpers.ts';

function assertGolden(out: IptablesRuleset, name: string) {
  const cmp = compareLikeUpstream(golden(name), out.text);
  assert.ok(cmp.equal, `${name} differs:\n${cmp.diff}`);
}

/** Upstream countRules: rules in one table of a payload. */
function countRules(text: string, table: string): number {
  return parseIptablesSave(text).tables.find((t) => t.name === table)!.chains.reduce((n, c) => n + c.rules.length, 0);
}

const clusterIPService = (ns: string, name: string, ip: string, portName: string, port: number) =>
  makeService(ns, name, (s) => {
    s.spec.type = 'ClusterIP';
    s.spec.clusterIP = ip;
    s.spec.ports = [{ name: portName, port, protocol: 'TCP' }];
  });
const sliceFor = (ns: string, name: string, portName: string, port: number, ips: string[]) =>
  makeSlice(ns, name, 1, (e) => {
    e.endpoints = ips.map((ip) => ({ addresses: [ip] }));
    e.ports = [{ name: portName, port, protocol: 'TCP' }];
  });

test('TestSyncProxyRulesRepeated: partial syncs write only changed services; counts track the kernel', () => {
  const p = new FakeProxier();
  p.addService(clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80));
  const svc2 = clusterIPService('ns2', 'svc2', '172.30.0.42', 'p8080', 8080);
  p.addService(svc2);
  p.addSlice(sliceFor('ns1', 'svc1', 'p80', 80, ['10.0.1.1']));
  p.addSlice(sliceFor('ns2', 'svc2', 'p8080', 8080, ['10.0.2.1']));

  let out = p.sync();
  assertGolden(out, 'repeated-1.expected.txt');
  assert.ok(out.fullSync);
  let rulesTotal = countRules(golden('repeated-1.expected.txt'), 'nat');
  assert.is(out.lastSync.nat, rulesTotal);
  assert.is(out.counts.nat, rulesTotal);

  // A new service and its endpoints: only its SVC and SEP chains are written.
  p.addService(clusterIPService('ns3', 'svc3', '172.30.0.43', 'p80', 80));
  const eps3 = sliceFor('ns3', 'svc3', 'p80', 80, ['10.0.3.1']);
  p.addSlice(eps3);
  out = p.sync();
  assertGolden(out, 'repeated-2.expected.txt');
  assert.not.ok(out.fullSync);
  assert.is(out.lastSync.nat, countRules(golden('repeated-2.expected.txt'), 'nat'));
  rulesTotal += 5; // 1 KUBE-SERVICES rule, 2 SVC rules, 2 SEP rules
  assert.is(out.counts.nat, rulesTotal);

  // Delete a service: its chains are flushed and deleted, the others untouched.
  p.deleteService(svc2);
  out = p.sync();
  assertGolden(out, 'repeated-3.expected.txt');
  rulesTotal -= 5;
  assert.is(out.counts.nat, rulesTotal);
  assert.is(out.lastSync.nat, countRules(golden('repeated-3.expected.txt'), 'nat'));

  // A service without endpoints only gets a REJECT in filter.
  const svc4 = clusterIPService('ns4', 'svc4', '172.30.0.44', 'p80', 80);
  p.addService(svc4);
  out = p.sync();
  assertGolden(out, 'repeated-4.expected.txt');
  assert.is(out.counts.nat, rulesTotal);

  p.addSlice(sliceFor('ns4', 'svc4', 'p80', 80, ['10.0.4.1']));
  out = p.sync();
  assertGolden(out, 'repeated-5.expected.txt');
  rulesTotal += 5;
  assert.is(out.counts.nat, rulesTotal);

  // A changed endpoint rewrites the service's SVC and SEP chains; the old SEP chain goes.
  p.addSlice(sliceFor('ns3', 'svc3', 'p80', 80, ['10.0.3.2']));
  out = p.sync();
  assertGolden(out, 'repeated-6.expected.txt');
  assert.is(out.counts.nat, rulesTotal);

  p.addSlice(sliceFor('ns3', 'svc3', 'p80', 80, ['10.0.3.2', '10.0.3.3']));
  out = p.sync();
  assertGolden(out, 'repeated-7.expected.txt');
  rulesTotal += 3;
  assert.is(out.counts.nat, rulesTotal);

  // Nothing changed: no service chains at all.
  out = p.sync();
  assertGolden(out, 'repeated-8.expected.txt');
  assert.is(out.counts.nat, rulesTotal);
  assert.is(out.lastSync.nat, countRules(golden('repeated-8.expected.txt'), 'nat'));

  // (Upstream forces a failing partial restore here; the retry is a full sync.)
  p.deleteService(svc4);
  out = p.forceFullSync();
  assertGolden(out, 'repeated-9.expected.txt');
  rulesTotal -= 5;
  assert.is(out.counts.nat, rulesTotal);
  void eps3;
});

test('partial sync keyed by a service port key rewrites every port of that service', () => {
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.clusterIP = '172.30.0.41';
    s.spec.ports = [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 81, protocol: 'TCP' }];
  });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => {
    e.endpoints = [{ addresses: ['10.0.1.1'] }];
    e.ports = [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 81, protocol: 'TCP' }];
  });
  const other = clusterIPService('ns2', 'svc2', '172.30.0.42', 'p80', 80);
  const otherSlice = sliceFor('ns2', 'svc2', 'p80', 80, ['10.0.2.1']);
  const out = render([svc, other], [slice, otherSlice], upstreamSettings(), { changed: new Set(['ns1/svc1:a']) });
  const svcChains = out.nat.chains.filter((c) => c.startsWith('KUBE-SVC-'));
  assert.is(svcChains.length, 2, 'both ports of ns1/svc1, none of ns2/svc2');
  assert.ok(out.nat.rules.some((r) => r.chain === 'KUBE-SERVICES' && r.comment === 'ns2/svc2:p80 cluster IP'), 'KUBE-SERVICES is always complete');
  assert.ok(out.activeNatChains.size === 6, 'unchanged services still count as active');
});

test('stale chains: only kube-proxy service prefixes are deleted, each with a chain line and -X', () => {
  const out = render([], [], upstreamSettings(), {
    existingNatChains: ['KUBE-SERVICES', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB', 'KUBE-FW-CCCC', 'KUBE-EXT-DDDD', 'KUBE-SVL-EEEE', 'KUBE-MARK-DROP', 'DOCKER', 'KUBE-POSTROUTING'],
  });
  assert.equal(out.nat.deletedChains, ['KUBE-EXT-DDDD', 'KUBE-FW-CCCC', 'KUBE-SEP-BBBB', 'KUBE-SVC-AAAA', 'KUBE-SVL-EEEE']);
  for (const c of out.nat.deletedChains) {
    assert.ok(out.text.includes(`\n:${c} - [0:0]\n`), `chain line for ${c}`);
    assert.ok(out.text.includes(`\n-X ${c}\n`), `-X for ${c}`);
  }
  assert.not.ok(out.text.includes('DOCKER'));
  assert.not.ok(out.text.includes('-X KUBE-MARK-DROP'));
  // -X lines do not count as rules (upstream subtracts deletedChains from the metric).
  assert.is(out.counts.nat, countRules(out.text, 'nat'));
});

function bigSlice(ns: string, name: string, portName: string, port: number, prefix: string, n: number) {
  return makeSlice(ns, name, 1, (e) => {
    e.endpoints = Array.from({ length: n }, (_, i) => ({ addresses: [`${prefix}.${i % 256}.${Math.floor(i / 256)}`] }));
    e.ports = [{ name: portName, port, protocol: 'TCP' }];
  });
}

function countEndpointsAndComments(text: string, match: string) {
  let matched = '';
  let endpoints = 0;
  let comments = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('-A KUBE-SEP-') && line.includes('-j DNAT')) {
      endpoints++;
      if (line.includes('--comment')) comments++;
      if (line.includes(match)) matched = line;
    }
  }
  return { matched, endpoints, comments };
}

test('TestSyncProxyRulesLargeClusterMode: past the threshold, endpoint comments go; stale cleanup can be deferred', () => {
  const p = new FakeProxier(upstreamSettings({ masqueradeAll: true }));
  p.addService(clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80));
  p.addService(clusterIPService('ns2', 'svc2', '172.30.0.42', 'p8080', 8080));
  p.addService(clusterIPService('ns3', 'svc3', '172.30.0.43', 'p8081', 8081));
  p.addSlice(bigSlice('ns1', 'svc1', 'p80', 80, '10.0', 499));
  p.addSlice(bigSlice('ns2', 'svc2', 'p8080', 8080, '10.1', 499));

  let out = p.sync();
  let c = countEndpointsAndComments(out.text, '10.0.0.0');
  assert.is(c.matched, '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
  assert.is(c.endpoints, 998);
  assert.is(c.comments, 998);
  assert.not.ok(out.largeClusterMode);

  p.addSlice(sliceFor('ns3', 'svc3', 'p8081', 8081, ['203.0.113.4', '203.0.113.8', '203.0.113.12']));
  out = p.sync();
  c = countEndpointsAndComments(out.text, '203.0.113.4');
  assert.ok(out.largeClusterMode);
  assert.is(c.matched, '-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081');
  assert.is(c.endpoints, 3, 'a partial sync writes only svc3');
  assert.is(c.comments, 0);

  out = p.forceFullSync();
  c = countEndpointsAndComments(out.text, '10.0.0.0');
  assert.is(c.matched, '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80');
  assert.is(c.endpoints, 1001);
  assert.is(c.comments, 0);

  const svc4 = clusterIPService('ns4', 'svc4', '172.30.0.44', 'p8082', 8082);
  p.addService(svc4);
  p.addSlice(sliceFor('ns4', 'svc4', 'p8082', 8082, ['10.4.0.1']));
  out = p.sync();
  c = countEndpointsAndComments(out.text, '10.4.0.1');
  assert.is(c.matched, '-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082');
  assert.is(c.endpoints, 1);

  // Within a syncPeriod of the last cleanup, large clusters skip iptables-save: nothing deleted.
  p.deleteService(svc4);
  out = p.sync({ cleanup: false });
  c = countEndpointsAndComments(out.text, '10.4.0.1');
  assert.is(c.matched, '');
  assert.is(c.endpoints, 0);
  assert.not.ok(out.text.includes('-X '));

  out = p.sync();
  assert.ok(out.text.includes('-X KUBE-SVC-EBDQOQU5SJFXRIL3'));
  assert.ok(out.text.includes('-X KUBE-SEP-SU5STNODRYEWJAUF'));

  out = p.forceFullSync();
  assert.is(countEndpointsAndComments(out.text, '10.0.0.0').endpoints, 1001);
});

const metricCases = [
  { name: 'internalTrafficPolicy is set and there are local endpoints', itp: 'Local', etp: '', nodes: ['test-node', 'node1', 'node2'], internal: 0, external: 0 },
  { name: 'externalTrafficPolicy is set and there are local endpoints', itp: '', etp: 'Local', nodes: ['test-node', 'node1', 'node2'], internal: 0, external: 0 },
  { name: 'both policies are set and there are local endpoints', itp: 'Local', etp: 'Local', nodes: ['test-node', 'node1', 'node2'], internal: 0, external: 0 },
  { name: 'internalTrafficPolicy is set and there are no local endpoints', itp: 'Local', etp: '', nodes: ['node0', 'node1', 'node2'], internal: 1, external: 0 },
  { name: 'externalTrafficPolicy is set and there are no local endpoints', itp: '', etp: 'Local', nodes: ['node0', 'node1', 'node2'], internal: 0, external: 1 },
  { name: 'both policies are set and there are no local endpoints', itp: 'Local', etp: 'Local', nodes: ['node0', 'node1', 'node2'], internal: 1, external: 1 },
  { name: 'both policies are set and there are no endpoints at all', itp: 'Local', etp: 'Local', nodes: [], internal: 0, external: 0 },
];
for (const tc of metricCases) {
  test(`TestNoEndpointsMetric: ${tc.name}`, () => {
    const svc = makeService('ns1', 'svc1', (s) => {
      s.spec.clusterIP = '172.30.1.1';
      s.spec.selector = { foo: 'bar' };
      s.spec.ports = [{ name: '', port: 80, protocol: 'TCP', nodePort: 123 }];
      if (tc.itp) s.spec.internalTrafficPolicy = tc.itp;
      if (tc.etp) {
        s.spec.type = 'NodePort';
        s.spec.externalTrafficPolicy = tc.etp;
      }
    });
    const slice = makeSlice('ns1', 'svc1', 1, (e) => {
      e.ports = [{ name: '', port: 80, protocol: 'TCP' }];
      e.endpoints = tc.nodes.map((n, i) => ({ addresses: [`10.0.1.${i + 1}`], conditions: { ready: true }, nodeName: n }));
    });
    const out = render([svc], [slice]);
    assert.equal(out.noLocalEndpoints, { internal: tc.internal, external: tc.external });
  });
}

test.run();
