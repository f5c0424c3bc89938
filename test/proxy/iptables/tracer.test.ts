// The iptables tracer (src/proxy/iptables/tracer.ts): the path comes from the
// rule counters; the backend is where DNAT sent the connection (conntrack's reply).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConntrackLine, type Packet } from '../../../src/proxy/conntrack.ts';
import { iptablesTracer } from '../../../src/proxy/iptables/tracer.ts';
import type { NodeTrace } from '../../../src/proxy/trace-model.ts';
import { clusterIPPlan, fakeToolkit } from '../trace-helpers.ts';

const packet: Packet = { proto: 'tcp', src: '10.244.2.2', sport: 24001, dst: '10.106.141.239', dport: 3306 };
const MINE = parseConntrackLine('tcp      6 119 TIME_WAIT src=10.244.2.2 dst=10.106.141.239 sport=24001 dport=3306 src=10.244.1.2 dst=192.168.49.4 sport=3306 dport=24001 [ASSURED] mark=0 use=1');

test('the backend is the source of conntrack\'s reply tuple; the entry trace is left as it was', () => {
  const entry: NodeTrace = { node: 'node-03', ip: '192.168.49.4', role: 'runs the client', packet };
  const r = iptablesTracer.open(clusterIPPlan(), fakeToolkit()).route(entry, { mine: MINE, events: [], packet, connected: true, addresses: [] });
  assert.equal(r, { backend: { ip: '10.244.1.2', port: 3306, source: 'conntrack' }, notes: [] });
  assert.equal(Object.keys(entry), ['node', 'ip', 'role', 'packet']);
  assert.ok(iptablesTracer.countsRules);
});

test('the connection not seen in conntrack: no backend', () => {
  const entry: NodeTrace = { node: 'node-03', ip: '192.168.49.4', role: 'runs the client', packet };
  assert.is(iptablesTracer.open(clusterIPPlan(), fakeToolkit()).route(entry, { events: [], packet, connected: false, addresses: [] }).backend, undefined);
});

test.run();
