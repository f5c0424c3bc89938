import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderNftables, dumpRuleset, fullPlan, fullTransaction } from '../../../src/proxy/nftables/render.ts';
import { FAKE_RENDER, FakeNft, assertNftEqual, ep, fakeSettings, readExpected, state, svcPort, TEST_NODE } from './helpers.ts';

// TestOverallNFTablesRules: one service of each kind, against upstream's expected dump.
function overallState() {
  return state([
    [svcPort({ namespace: 'ns1', name: 'svc1', port: 'p80' }, { clusterIP: '172.30.0.41', port: 80 }), [ep('10.180.0.1:80')]],
    [
      svcPort(
        { namespace: 'ns2', name: 'svc2', port: 'p80' },
        {
          clusterIP: '172.30.0.42', port: 80, nodePort: 3001, loadBalancerVIPs: ['1.2.3.4'], externalIPs: ['192.168.99.22'],
          externalPolicyLocal: true, healthCheckNodePort: 30000,
        },
      ),
      [ep('10.180.0.2:80')],
    ],
    [svcPort({ namespace: 'ns3', name: 'svc3', port: 'p80' }, { clusterIP: '172.30.0.43', port: 80, nodePort: 3003 }), [ep('10.180.0.3:80')]],
    [
      svcPort({ namespace: 'ns4', name: 'svc4', port: 'p80' }, { clusterIP: '172.30.0.44', port: 80, externalIPs: ['192.168.99.33'] }),
      [ep('10.180.0.4:80'), ep('10.180.0.5:80', { node: TEST_NODE })],
    ],
    [
      svcPort(
        { namespace: 'ns5', name: 'svc5', port: 'p80' },
        {
          clusterIP: '172.30.0.45', port: 80, nodePort: 3002, loadBalancerVIPs: ['5.6.7.8'], healthCheckNodePort: 30000,
          loadBalancerSourceRanges: ['203.0.113.0/25'], sessionAffinityClientIP: true, stickyMaxAgeSeconds: 10800,
        },
      ),
      [ep('10.180.0.3:80')],
    ],
    [svcPort({ namespace: 'ns6', name: 'svc6', port: 'p80' }, { clusterIP: '172.30.0.46', port: 80 }), []],
  ]);
}

test('TestOverallNFTablesRules: the rendered table equals upstream expected dump', () => {
  const rs = renderNftables(overallState(), fakeSettings(), FAKE_RENDER);
  assertNftEqual(dumpRuleset(rs), readExpected('base-rules.expected.txt') + readExpected('overall.expected.txt'));
});

test('the full transaction loads into an empty table and leaves exactly the rendered table', () => {
  const rs = renderNftables(overallState(), fakeSettings(), FAKE_RENDER);
  const nft = new FakeNft();
  nft.apply(fullPlan(rs).ops);
  assertNftEqual(nft.dump(), dumpRuleset(rs));
  // Applying it again over itself is what every later full sync does.
  nft.apply(fullPlan(rs).ops);
  assertNftEqual(nft.dump(), dumpRuleset(rs));
});

const base = readExpected('base-rules.expected.txt');
const svc1 = { namespace: 'ns1', name: 'svc1', port: 'p80' };
const remote = ep('10.180.0.1:80');
const local = ep('10.180.2.1:80', { node: TEST_NODE });

function rendered(entries: Parameters<typeof state>[0], over = {}, cidrs?: string[]) {
  return dumpRuleset(renderNftables(state(entries, cidrs), fakeSettings(over), FAKE_RENDER));
}

function chainRules(entries: Parameters<typeof state>[0], chain: string, over = {}, cidrs?: string[]): string[] {
  const rs = renderNftables(state(entries, cidrs), fakeSettings(over), FAKE_RENDER);
  const c = rs.chains.find((x) => x.name === chain);
  return c ? c.rules.map((r) => r.rule + (r.comment ? ` comment "${r.comment}"` : '')) : [];
}

test('ClusterIP: one chain per port and protocol, one cluster-ips element per IP (TestClusterIPGeneral)', () => {
  const both = (port: number) => [ep(`10.180.0.1:${port}`, { node: TEST_NODE }), ep(`10.180.2.1:${port}`, { node: 'node2' })];
  const ns2 = (port: string, protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP') => ({ namespace: 'ns2', name: 'svc2', port, protocol });
  const out = rendered([
    [svcPort({ namespace: 'ns1', name: 'svc1', port: 'http' }, { clusterIP: '172.30.0.41', port: 80 }), [ep('10.180.0.1:80', { node: TEST_NODE })]],
    [svcPort(ns2('http'), { clusterIP: '172.30.0.42', port: 80 }), both(80)],
    [svcPort(ns2('https'), { clusterIP: '172.30.0.42', port: 443 }), both(8443)],
    [svcPort(ns2('dns-udp', 'UDP'), { clusterIP: '172.30.0.42', port: 53 }), both(53)],
    [svcPort(ns2('dns-tcp'), { clusterIP: '172.30.0.42', port: 53 }), both(5353)],
    [svcPort(ns2('dns-sctp', 'SCTP'), { clusterIP: '172.30.0.42', port: 53 }), both(53)],
  ]);
  assertNftEqual(out, base + readExpected('clusterip.expected.txt'));
});

test('LoadBalancer with source ranges: firewall chain admits the ranges and, as the node is inside one, the LB IPs (TestLoadBalancer)', () => {
  const out = rendered([
    [
      svcPort(svc1, {
        clusterIP: '172.30.0.41', port: 80, nodePort: 3001, loadBalancerVIPs: ['1.2.3.4', '5.6.7.8'],
        loadBalancerSourceRanges: ['192.168.0.0/24', '203.0.113.0/25'],
      }),
      [remote],
    ],
  ]);
  assertNftEqual(out, base + readExpected('loadbalancer.expected.txt'));
});

test('eTP=Local: external traffic short-circuits pods and the host, then goes to the local chain (TestExternalTrafficPolicyLocal)', () => {
  const out = rendered([
    [
      svcPort(svc1, {
        clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalIPs: ['192.168.99.11'], loadBalancerVIPs: ['1.2.3.4'],
        externalPolicyLocal: true, healthCheckNodePort: 30000,
      }),
      [remote, local],
    ],
  ]);
  assertNftEqual(out, base + readExpected('etp-local.expected.txt'));
});

test('externalIPs with eTP=Cluster: masquerade, then any endpoint (TestExternalTrafficPolicyCluster)', () => {
  const out = rendered([
    [
      svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalIPs: ['192.168.99.11'], loadBalancerVIPs: ['1.2.3.4'] }),
      [remote, local],
    ],
  ]);
  assertNftEqual(out, base + readExpected('external-ips.expected.txt'));
});

test('no endpoints: every address of the service goes to reject-chain, no chains (TestNoEndpointsReject)', () => {
  const out = rendered([
    [svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalIPs: ['192.168.99.11'], loadBalancerVIPs: ['1.2.3.4'] }), []],
  ]);
  assertNftEqual(out, base + readExpected('no-endpoints.expected.txt'));
});

test('only non-serving endpoints count as none: reject, not drop', () => {
  const out = rendered([
    [
      svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalIPs: ['192.168.99.11'], loadBalancerVIPs: ['1.2.3.4'] }),
      [ep('10.180.0.1:80', { ready: false, serving: false, terminating: true })],
    ],
  ]);
  assertNftEqual(out, base + readExpected('no-endpoints.expected.txt'));
});

test('iTP=Local without local endpoints drops ClusterIP traffic but serves LB and NodePort traffic', () => {
  const out = rendered([
    [
      svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, nodePort: 3003, loadBalancerVIPs: ['9.10.11.12'], internalPolicyLocal: true }),
      [ep('10.180.2.1:80', { node: 'remote' })],
    ],
  ]);
  assertNftEqual(out, base + readExpected('itp-local-no-local-endpoints.expected.txt'));
});

test('ClientIP affinity: per-endpoint dynamic sets with the sticky timeout', () => {
  const out = rendered([
    [svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, sessionAffinityClientIP: true, stickyMaxAgeSeconds: 300 }), [remote, local]],
  ]);
  assertNftEqual(out, base + readExpected('affinity.expected.txt'));
});

test('ServiceCIDRs: unallocated IPs of every IPv4 ServiceCIDR are dropped, none -> no drop rule', () => {
  assert.equal(chainRules([], 'cluster-ips-check', {}, ['172.30.0.0/16', '10.96.0.0/12', 'fd00:10:96::/112']), [
    'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    'ip daddr { 172.30.0.0/16,10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"',
  ]);
  assert.equal(chainRules([], 'cluster-ips-check', {}, []), ['ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"']);
});

test('NodePort addresses: empty means every local address except loopback, and no nodeport-ips set', () => {
  const rs = renderNftables(state([]), fakeSettings({ nodePortAddresses: [] }), FAKE_RENDER);
  assert.not.ok(rs.sets.some((s) => s.name === 'nodeport-ips'));
  assert.equal(chainRules([], 'services', { nodePortAddresses: [] }), [
    'ip daddr . meta l4proto . th dport vmap @service-ips',
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
  ]);
  assert.equal(chainRules([], 'nodeport-endpoints-check', { nodePortAddresses: [] }), [
    'ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports',
  ]);
  // upstream TestNodePorts "ipv4, multiple nodeport-addresses"
  const multi = renderNftables(state([]), fakeSettings({ nodePortAddresses: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'] }), FAKE_RENDER);
  assert.equal(multi.sets.find((s) => s.name === 'nodeport-ips')?.elements.map((e) => e.key[0]), ['192.168.0.2', '192.168.1.2']);
  // A full sync still makes sure a nodeport-ips left from an earlier configuration is gone.
  const text = fullPlan(rs).ops.filter((o) => o.kind === 'set' && (o.verb === 'delete' || o.verb === 'add'));
  assert.ok(text.some((o) => o.verb === 'delete' && 'name' in o && o.name === 'nodeport-ips'));
});

test('masquerade-all marks all ClusterIP traffic; without a cluster CIDR there is no pod short-circuit', () => {
  const entries: Parameters<typeof state>[0] = [
    [svcPort(svc1, { clusterIP: '172.30.0.41', port: 80, nodePort: 3001, externalPolicyLocal: true }), [remote, local]],
  ];
  assert.equal(chainRules(entries, 'service-ULMVA6XW-ns1/svc1/tcp/p80', { masqueradeAll: true })[0], 'ip daddr 172.30.0.41 jump mark-for-masquerade');
  assert.equal(chainRules(entries, 'service-ULMVA6XW-ns1/svc1/tcp/p80', { clusterCIDR: '' }), [
    'numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 , 1 : goto endpoint-MLKSHPWN-ns1/svc1/tcp/p80__10.180.2.1/80 }',
  ]);
  assert.equal(chainRules(entries, 'external-ULMVA6XW-ns1/svc1/tcp/p80', { clusterCIDR: '' }), [
    'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
    'fib saddr type local goto service-ULMVA6XW-ns1/svc1/tcp/p80 comment "short-circuit local traffic"',
    'goto local-ULMVA6XW-ns1/svc1/tcp/p80',
  ]);
});

test('the mark is formatted like Go\'s %#08x unless a test injects one', () => {
  const rs = renderNftables(state([]), fakeSettings());
  assert.equal(rs.chains.find((c) => c.name === 'mark-for-masquerade')?.rules, [{ rule: 'mark set mark or 0x00004000' }]);
});

test('fullTransaction: the exact text a full sync sends, in order', () => {
  const rs = renderNftables(
    state([
      [svcPort(svc1, { clusterIP: '172.30.0.41', port: 80 }), [ep('10.180.0.1:80')]],
      [svcPort({ namespace: 'ns6', name: 'svc6', port: 'p80' }, { clusterIP: '172.30.0.46', port: 80 }), []],
    ]),
    fakeSettings({ nodePortAddresses: [] }),
    FAKE_RENDER,
  );
  const text = fullTransaction(rs, {
    existing: {
      chains: ['service-OLD00000-ns9/gone/tcp/p1', 'services'],
      sets: ['affinity-OLD00000-ns9/gone/tcp/p1__10.1.1.1/1', 'cluster-ips'],
    },
  });
  const expected = readExpected('full-transaction.expected.txt').split('\n').filter((l) => !l.startsWith('#')).join('\n');
  assert.fixture(text, expected);
  assert.equal(fullPlan(rs, { existing: { chains: ['service-OLD00000-ns9/gone/tcp/p1'], sets: [] } }).staleChains, ['service-OLD00000-ns9/gone/tcp/p1']);
});

test.run();
