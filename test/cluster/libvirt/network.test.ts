// The VM lab's node network as commands: a bridge in the lab's namespace,
// the external client on it, a tap per VM — nothing in the host's namespace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planNetwork, planTap, renderNetSteps } from '../../../src/cluster/libvirt/network.ts';
import { nodeRouteLines } from '../../../src/cluster/libvirt/lab-vms.ts';

const layout = {
  lab: 'clusterip-db', nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1',
  nodes: [
    { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
    { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
    { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
  ],
  external: { name: 'external', ip: '192.168.49.254' },
};

test('the network: bridge with the gateway, external client on a veth', () => {
  assert.fixture(renderNetSteps(planNetwork(layout)), `ip netns add svclab-clusterip-db-net
ip -n svclab-clusterip-db-net -batch -
    link set lo up
    link add br0 type bridge
    addr add 192.168.49.1/24 dev br0
    link set br0 up
ip netns exec svclab-clusterip-db-net sysctl -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=0
ip -n svclab-clusterip-db-net -batch -
    route add 10.244.0.0/24 via 192.168.49.2 dev br0
    route add 10.244.1.0/24 via 192.168.49.3 dev br0
    route add 10.244.2.0/24 via 192.168.49.4 dev br0
    route add local 0.0.0.0/0 dev lo table 100
    rule add pref 32800 table 100
ip netns exec svclab-clusterip-db-net iptables-restore
    *filter
    -A INPUT -p tcp -m comment --comment "svclab: the lab network has no outside" -j REJECT --reject-with tcp-reset
    -A INPUT -m comment --comment "svclab: the lab network has no outside" -j REJECT
    COMMIT
ip netns add svclab-clusterip-db-external
ip -n svclab-clusterip-db-external -batch -
    link set lo up
    link add eth0 type veth peer name v-external netns svclab-clusterip-db-net
    addr add 192.168.49.254/24 dev eth0
    link set eth0 up
    route add default via 192.168.49.1 dev eth0
ip -n svclab-clusterip-db-net -batch -
    link set v-external master br0
    link set v-external up
`);
});

test('every step names a lab namespace: the host namespace is never addressed', () => {
  for (const s of [...planNetwork(layout), ...planTap('clusterip-db', 'node-02', 1)]) assert.match(s.netns, /^svclab-clusterip-db-/);
});

test('a tap is created inside the lab namespace and enslaved to br0', () => {
  assert.equal(planTap('clusterip-db', 'node-02', 1)[0].lines, ['tuntap add dev t-node-02 mode tap', 'link set t-node-02 master br0', 'link set t-node-02 up']);
});

test('host-gw routes: each node reaches the other nodes\' pod CIDRs via their IPs', () => {
  assert.equal(nodeRouteLines(layout, 'node-02'), [
    'route replace 10.244.0.0/24 via 192.168.49.2 dev eth0',
    'route replace 10.244.2.0/24 via 192.168.49.4 dev eth0',
  ]);
});

test.run();
