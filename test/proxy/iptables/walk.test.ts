// The iptables counter walk, on `iptables-save -c` captured from real labs just
// before and just after one connection (fixtures/*.before.txt / *.after.txt):
//   clusterip-node-03  pod client-b 10.244.2.2 → db-service 10.102.159.169:3306, entry node
//   clusterip-node-02  the same connection arriving at the endpoint's node (10.244.1.3)
//   nodeport-node-01   external 192.168.49.254 → 192.168.49.2:30007, node without a replica
//   nodeport-node-02   the masqueraded hop arriving at the endpoint's node (10.244.1.2:80)
//   userspace-node-03  pod client-b → ClusterIP in userspace mode (portal REDIRECT)
// The captures include other traffic of a live lab (kubelet probes, proxies'
// apiserver watches), which the walk must not mistake for this connection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIptablesSave } from '../../../src/proxy/iptables/save-parse.ts';
import type { Packet } from '../../../src/proxy/conntrack.ts';
import { CounterDiff, walkNode, type NodeWalk } from '../../../src/proxy/iptables/walk.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const dump = (name: string) => parseIptablesSave(readFileSync(join(dir, name), 'utf8'));
const diffOf = (name: string) => new CounterDiff(dump(`${name}.before.txt`), dump(`${name}.after.txt`));

/** The walk as "table HOOK: CHAIN>TARGET ..." per hook, nesting shown by depth. */
function shape(w: NodeWalk): string[] {
  return w.hooks.map((h) => `${h.table} ${h.hook}: ${h.steps.map((s) => `${'>'.repeat(s.depth)}${s.target}`).join(' ')} = ${h.verdict}`);
}

const podToClusterIP: Packet = { proto: 'tcp', src: '10.244.2.2', sport: 52878, dst: '10.102.159.169', dport: 3306 };

test('counter diff: only the rules this connection and the background traffic moved, by how much', () => {
  const moved = diffOf('clusterip-node-03').moved().filter((m) => m.table === 'nat');
  const lines = moved.map((m) => `${m.rule.chain} -j ${m.rule.target} +${m.delta.packets}`);
  assert.equal(lines, [
    'PREROUTING -j KUBE-SERVICES +1',
    'POSTROUTING -j KUBE-POSTROUTING +1',
    'KUBE-POSTROUTING -j RETURN +1',
    'KUBE-SEP-JMTESLHKPLZMO7E2 -j DNAT +1',
    'KUBE-SERVICES -j KUBE-SVC-PKJNZ2BPYAP7WCVG +1',
    'KUBE-SVC-PKJNZ2BPYAP7WCVG -j KUBE-SEP-JMTESLHKPLZMO7E2 +1',
  ]);
  // The statistic rule's counter moved for the first endpoint only: that is the pick.
  assert.ok(!moved.some((m) => m.rule.chain === 'KUBE-SEP-BXMK5FXJOI4OV6XE'));
});

test('counter diff: rules rewritten between the snapshots count from zero and are flagged', () => {
  const d = diffOf('clusterip-node-02'); // node-01's proxy resynced during this capture, node-02's did not
  assert.ok(d.moved().every((m) => !m.delta.reset));
  const before = dump('clusterip-node-03.after.txt');
  const after = dump('clusterip-node-03.before.txt'); // counters go down: as after a full restore
  const back = new CounterDiff(before, after).moved().find((m) => m.rule.chain === 'FORWARD' && m.rule.target === 'KUBE-FORWARD');
  assert.ok(back?.delta.reset);
  assert.is(back?.delta.packets, 30); // counted from the rewrite: the whole after value
});

test('ClusterIP from a pod: PREROUTING → KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, then FORWARD and POSTROUTING', () => {
  const w = walkNode(diffOf('clusterip-node-03'), podToClusterIP, { origin: 'arriving', localAddrs: ['192.168.49.4', '10.244.2.1'] });
  assert.equal(shape(w), [
    'nat PREROUTING: KUBE-SERVICES >KUBE-SVC-PKJNZ2BPYAP7WCVG >>KUBE-SEP-JMTESLHKPLZMO7E2 >>>DNAT = DNAT',
    'filter FORWARD: KUBE-PROXY-FIREWALL KUBE-FORWARD KUBE-SERVICES KUBE-EXTERNAL-SERVICES = policy ACCEPT',
    'nat POSTROUTING: KUBE-POSTROUTING >RETURN = policy ACCEPT',
  ]);
  const nat = w.hooks[0];
  assert.equal(nat.steps[1].comment, 'default/db-service cluster IP');
  assert.equal(nat.steps[2].pick, 'endpoint 1 of 2');
  assert.equal(nat.steps[3].effect, 'DNAT to 10.244.1.3:3306');
  // Later hooks see the packet after DNAT.
  assert.equal(w.hooks[1].packet.dst, '10.244.1.3');
  assert.equal(w.after, { ...podToClusterIP, dst: '10.244.1.3', dport: 3306 });
  assert.equal(w.nat, { dnat: '10.244.1.3:3306' });
  // A pod's own traffic is not marked (the KUBE-MARK-MASQ rule is `! -s podCIDR`): no masquerade.
  assert.ok(w.hooks[2].steps[1].effect?.startsWith('not marked'));
  assert.ok(w.hooks[1].steps.every((s) => s.returned));
  assert.equal(w.noise, []);
});

test('counters that moved for another endpoint during the trace are reported as other traffic', () => {
  const text = readFileSync(join(dir, 'clusterip-node-03.after.txt'), 'utf8')
    .replace('[2:120] -A KUBE-SEP-BXMK5FXJOI4OV6XE -p tcp', '[3:180] -A KUBE-SEP-BXMK5FXJOI4OV6XE -p tcp')
    .replace('[2:120] -A KUBE-SVC-PKJNZ2BPYAP7WCVG -m comment --comment "default/db-service -> 10.244.2.3:3306"', '[3:180] -A KUBE-SVC-PKJNZ2BPYAP7WCVG -m comment --comment "default/db-service -> 10.244.2.3:3306"');
  const w = walkNode(new CounterDiff(dump('clusterip-node-03.before.txt'), parseIptablesSave(text)), podToClusterIP, { origin: 'arriving', localAddrs: ['192.168.49.4'] });
  assert.is(w.nat.dnat, '10.244.1.3:3306'); // the walk keeps to this connection's endpoint...
  assert.is(w.noise.length, 2); // ...and says the other one moved too
  assert.match(w.noise.join('\n'), /KUBE-SVC-PKJNZ2BPYAP7WCVG → KUBE-SEP-BXMK5FXJOI4OV6XE "default\/db-service -> 10.244.2.3:3306" moved by 1/);
  // When conntrack says this connection went to the other endpoint, the walk follows that one.
  const hinted = walkNode(new CounterDiff(dump('clusterip-node-03.before.txt'), parseIptablesSave(text)), podToClusterIP, { origin: 'arriving', localAddrs: ['192.168.49.4'], dnatHint: '10.244.2.3:3306' });
  assert.is(hinted.nat.dnat, '10.244.2.3:3306');
  assert.is(hinted.hooks[0].steps[2].pick, 'endpoint 2 of 2');
  assert.match(hinted.noise.join('\n'), /KUBE-SEP-JMTESLHKPLZMO7E2/);
});

test('the endpoint node sees a plain forwarded packet: no service rule matches, nothing rewritten', () => {
  const w = walkNode(diffOf('clusterip-node-02'), { ...podToClusterIP, dst: '10.244.1.3' }, { origin: 'arriving', localAddrs: ['192.168.49.3', '10.244.1.1'] });
  assert.equal(shape(w), [
    'nat PREROUTING: KUBE-SERVICES = policy ACCEPT',
    'filter FORWARD: KUBE-PROXY-FIREWALL KUBE-FORWARD KUBE-SERVICES KUBE-EXTERNAL-SERVICES = policy ACCEPT',
    'nat POSTROUTING: KUBE-POSTROUTING >RETURN = policy ACCEPT',
  ]);
  assert.ok(w.hooks[0].steps[0].returned);
  assert.equal(w.nat, {});
});

test('NodePort from outside on a node without a replica: KUBE-NODEPORTS → KUBE-EXT → mark → KUBE-SVC → KUBE-SEP → DNAT → MASQUERADE', () => {
  const pkt: Packet = { proto: 'tcp', src: '192.168.49.254', sport: 21010, dst: '192.168.49.2', dport: 30007 };
  const w = walkNode(diffOf('nodeport-node-01'), pkt, { origin: 'arriving', localAddrs: ['192.168.49.2', '10.244.0.1'] });
  assert.equal(shape(w), [
    'nat PREROUTING: KUBE-SERVICES >KUBE-NODEPORTS >>KUBE-EXT-SZGXCNNBZLC4E3DM >>>KUBE-MARK-MASQ >>>>MARK >>>KUBE-SVC-SZGXCNNBZLC4E3DM >>>>KUBE-SEP-32SALUOIS2MA4FR2 >>>>>DNAT = DNAT',
    // The mark makes KUBE-FORWARD accept the first packet.
    'filter FORWARD: KUBE-PROXY-FIREWALL KUBE-FORWARD >ACCEPT = ACCEPT',
    'nat POSTROUTING: KUBE-POSTROUTING >MARK >MASQUERADE = MASQUERADE',
  ]);
  assert.equal(w.nat, { dnat: '10.244.1.2:80', masquerade: true });
  // The nat table sees only a connection's first packet: every nat rule on the path moved by exactly one.
  assert.ok(w.hooks.filter((h) => h.table === 'nat').every((h) => h.steps.every((s) => s.packets === 1)));
  assert.is(w.hooks[0].steps[1].comment, 'kubernetes service nodeports; NOTE: this must be the last rule in this chain');
});

test('addrtype LOCAL decides: without the node address among the local ones, KUBE-NODEPORTS is not entered', () => {
  const pkt: Packet = { proto: 'tcp', src: '192.168.49.254', sport: 21010, dst: '192.168.49.2', dport: 30007 };
  const w = walkNode(diffOf('nodeport-node-01'), pkt, { origin: 'arriving', localAddrs: ['10.244.0.1'] });
  assert.equal(w.hooks[0].steps.map((s) => s.target), ['KUBE-SERVICES']);
  assert.is(w.nat.dnat, undefined);
});

test('the masqueraded hop on the endpoint node comes from the entry node and is left alone', () => {
  const w = walkNode(diffOf('nodeport-node-02'), { proto: 'tcp', src: '192.168.49.2', sport: 21010, dst: '10.244.1.2', dport: 80 }, { origin: 'arriving', localAddrs: ['192.168.49.3', '10.244.1.1'] });
  assert.equal(shape(w)[0], 'nat PREROUTING: KUBE-SERVICES = policy ACCEPT');
  assert.equal(w.nat, {});
});

test('userspace: the portal REDIRECTs to the proxy port, and the packet goes to INPUT, not FORWARD', () => {
  const pkt: Packet = { proto: 'tcp', src: '10.244.2.2', sport: 24001, dst: '10.106.141.239', dport: 3306 };
  const w = walkNode(diffOf('userspace-node-03'), pkt, { origin: 'arriving', localAddrs: ['10.244.2.1', '192.168.49.4'] });
  assert.equal(shape(w), [
    'nat PREROUTING: KUBE-PORTALS-CONTAINER >REDIRECT = REDIRECT',
    'filter INPUT: KUBE-NODEPORT-NON-LOCAL = policy ACCEPT',
  ]);
  assert.equal(w.nat.redirect, 'local port 35579');
  assert.equal(w.after, { ...pkt, dst: '10.244.2.1', dport: 35579 });
});

test('a node sending to a ClusterIP itself: OUTPUT, marked (not from a pod), MASQUERADE in POSTROUTING', () => {
  // The same rules, evaluated for a locally sent packet: the walk needs counters that moved in
  // nat OUTPUT, which this capture does not have, so nothing is claimed.
  const w = walkNode(diffOf('clusterip-node-03'), { proto: 'tcp', src: '192.168.49.4', sport: 40000, dst: '10.102.159.169', dport: 3306 }, { origin: 'local', localAddrs: ['192.168.49.4'] });
  assert.equal(w.hooks.map((h) => `${h.table} ${h.hook}`), ['nat OUTPUT', 'filter OUTPUT', 'nat POSTROUTING']);
  assert.equal(w.hooks[0].steps, []);
});

test.run();
