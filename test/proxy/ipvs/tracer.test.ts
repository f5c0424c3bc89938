// The IPVS tracer (src/proxy/ipvs/tracer.ts): the backend is the real server
// of the connection's entry in `ipvsadm -Lnc`, read right after the connection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConntrackLine, type Packet } from '../../../src/proxy/conntrack.ts';
import { findIpvsConnection, ipvsTracer } from '../../../src/proxy/ipvs/tracer.ts';
import type { NodeTrace } from '../../../src/proxy/trace-model.ts';
import { clusterIPPlan, fakeNode, fakeToolkit } from '../trace-helpers.ts';

const TABLE = [
  'IPVS connection entries',
  'pro expire state       source             virtual            destination',
  'TCP 01:58  TIME_WAIT   10.244.2.2:21001   10.106.141.239:3306 10.244.1.2:3306',
  'TCP 14:59  ESTABLISHED 10.244.2.2:24001   10.106.141.239:3306 10.244.2.3:3306',
  'TCP 14:59  ESTABLISHED 10.244.2.2:24002   10.96.0.10:53      10.244.0.2:53',
].join('\n');
const packet: Packet = { proto: 'tcp', src: '10.244.2.2', sport: 24001, dst: '10.106.141.239', dport: 3306 };
// IPVS does its own NAT, but conntrack still sees the translated connection.
const MINE = parseConntrackLine('tcp      6 119 TIME_WAIT src=10.244.2.2 dst=10.106.141.239 sport=24001 dport=3306 src=10.244.1.2 dst=10.244.2.2 sport=3306 dport=24001 [ASSURED] mark=0 use=1');

test('the entry is found by virtual service and client port; without a client port, the first for the service', () => {
  const plan = clusterIPPlan();
  assert.is(findIpvsConnection(TABLE, plan, { packet, sport: 24001 })?.real, '10.244.2.3:3306');
  assert.is(findIpvsConnection(TABLE, plan, { packet })?.real, '10.244.1.2:3306');
  assert.is(findIpvsConnection(TABLE, plan, { packet, sport: 25000 }), undefined);
});

async function routeWith(table: string) {
  const entryNode = fakeNode('node-03', '192.168.49.4', (argv) => (argv[0] === 'ipvsadm' ? table : ''));
  const session = ipvsTracer.open(clusterIPPlan({ entry: entryNode }), fakeToolkit());
  await session.afterConnection?.();
  const entry: NodeTrace = { node: 'node-03', ip: '192.168.49.4', role: 'runs the client', packet };
  const r = session.route(entry, { mine: MINE, events: [], packet, sport: 24001, connected: true, addresses: [] });
  return { r, entry, calls: entryNode.calls.map((c) => c.argv.join(' ')) };
}

test('after the connection the tracer reads ipvsadm -Lnc on the entry node; the backend is its real server', async () => {
  const { r, entry, calls } = await routeWith(TABLE);
  assert.equal(calls, ['ipvsadm -Lnc']);
  assert.equal(r.backend, { ip: '10.244.2.3', port: 3306, source: 'ipvs' });
  assert.is(entry.ipvs?.state, 'ESTABLISHED');
  assert.is(r.hop, undefined);
});

test('no IPVS entry for the connection: the backend falls back to conntrack\'s reply tuple', async () => {
  const { r, entry } = await routeWith('IPVS connection entries\n');
  assert.equal(r.backend, { ip: '10.244.1.2', port: 3306, source: 'conntrack' });
  assert.is(entry.ipvs, undefined);
});

test('IPVS mode keeps iptables rules (masquerade, NodePort sets): their counters are walked', () => {
  assert.ok(ipvsTracer.countsRules);
});

test.run();
