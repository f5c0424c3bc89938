import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { planNetns, renderNetnsPlan, type NetnsLayout } from '../../../src/cluster/netns/plan.ts';

const layout: NetnsLayout = {
  lab: 'demo',
  nodeNetwork: '192.168.49.0/24',
  gateway: '192.168.49.1',
  nodes: [
    { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
    { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
    { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
  ],
  external: { name: 'external', ip: '192.168.49.254' },
};

test('the plan of the default three-node lab, command by command', () => {
  const expected = readFileSync(new URL('./plan.expected.txt', import.meta.url), 'utf8');
  assert.fixture(renderNetnsPlan(planNetns(layout)), expected);
});

test('every veth is created inside a lab namespace, never in the host', () => {
  const plan = planNetns(layout);
  for (const a of plan.actions) {
    if (a.kind !== 'ip') continue;
    assert.ok(a.netns.startsWith('svclab-demo-'), a.netns);
    for (const line of a.lines.filter((l) => l.includes('type veth'))) assert.match(line, / netns svclab-demo-net$/);
  }
});

test('host-gw: each node routes the other nodes\u2019 pod CIDRs via their node IPs; the external client only has a default route', () => {
  const plan = planNetns(layout);
  const routes = (ns: string) =>
    plan.actions.filter((a) => a.kind === 'ip' && a.netns === ns && a.detail.endsWith('routes')).flatMap((a) => (a.kind === 'ip' ? a.lines : []));
  assert.equal(routes('svclab-demo-node-02'), [
    'route add default via 192.168.49.1 dev eth0',
    'route add 10.244.0.0/24 via 192.168.49.2 dev eth0',
    'route add 10.244.2.0/24 via 192.168.49.4 dev eth0',
  ]);
  assert.equal(routes('svclab-demo-external'), ['route add default via 192.168.49.1 dev eth0']);
});

test('veth peer names fit the 15-byte limit and stay unique', () => {
  const long = { ...layout, nodes: [...layout.nodes, { name: 'a-very-long-node-name', ip: '192.168.49.5', podCIDR: '10.244.3.0/24' }] };
  const peers = planNetns(long).members.map((m) => m.peer);
  assert.equal(peers, ['v-node-01', 'v-node-02', 'v-node-03', 'vi3', 'v-external']);
});

test('a bad layout is refused before anything is planned, naming the problem', () => {
  const bad = (patch: Partial<NetnsLayout>) => () => planNetns({ ...layout, ...patch });
  assert.throws(bad({ lab: 'Demo' }), /lab name "Demo" is not a DNS label/);
  assert.throws(bad({ gateway: '192.168.50.1' }), /gateway 192.168.50.1 is not a host address of 192.168.49.0\/24/);
  assert.throws(bad({ external: { name: 'external', ip: '192.168.49.2' } }), /external: address 192.168.49.2 is already taken/);
  assert.throws(bad({ nodes: [{ ...layout.nodes[0], ip: '192.168.49.255' }] }), /192.168.49.255 is not a host address/);
  assert.throws(bad({ nodes: [layout.nodes[0], { ...layout.nodes[1], podCIDR: '10.244.0.0/16' }] }), /podCIDRs of node-01 \(10.244.0.0\/24\) and node-02 \(10.244.0.0\/16\) overlap/);
  assert.throws(bad({ nodes: [{ ...layout.nodes[0], name: 'net' }] }), /node name "net" is reserved/);
  assert.throws(bad({ nodes: [{ ...layout.nodes[0], podCIDR: '192.168.49.0/25' }] }), /overlaps the node network/);
  assert.throws(bad({ nodes: [] }), /no nodes/);
});

test.run();
