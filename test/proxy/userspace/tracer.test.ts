// The userspace tracer (src/proxy/userspace/tracer.ts): the backend is the
// proxy's own connection to an endpoint, found in the entry node's conntrack events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConntrack, type Packet } from '../../../src/proxy/conntrack.ts';
import { CounterDiff } from '../../../src/proxy/iptables/walk.ts';
import { parseIptablesSave } from '../../../src/proxy/iptables/save-parse.ts';
import type { NodeTrace } from '../../../src/proxy/trace-model.ts';
import { proxyLegs, userspaceTracer } from '../../../src/proxy/userspace/tracer.ts';
import { clusterIPPlan, fakeToolkit } from '../trace-helpers.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'iptables', 'fixtures');
const MINE = '[NEW] tcp      6 120 SYN_SENT src=10.244.2.2 dst=10.106.141.239 sport=24001 dport=3306 [UNREPLIED] src=10.244.2.1 dst=10.244.2.2 sport=35579 dport=24001';
const LEG = '[NEW] tcp      6 120 SYN_SENT src=10.244.2.1 dst=10.244.2.3 sport=46290 dport=3306 [UNREPLIED] src=10.244.2.3 dst=10.244.2.1 sport=3306 dport=46290';
const PROBE = '[NEW] tcp      6 120 SYN_SENT src=10.244.2.1 dst=10.244.2.3 sport=46300 dport=3306 [UNREPLIED] src=10.244.2.3 dst=10.244.2.1 sport=3306 dport=46300';
const OTHER = '[NEW] tcp      6 120 SYN_SENT src=10.244.2.1 dst=10.244.2.3 sport=46310 dport=80 [UNREPLIED] src=10.244.2.3 dst=10.244.2.1 sport=80 dport=46310';
const ADDRESSES = ['127.0.0.1', '192.168.49.4', '10.244.2.1'];
const packet: Packet = { proto: 'tcp', src: '10.244.2.2', sport: 24001, dst: '10.106.141.239', dport: 3306 };

function entryTrace(): NodeTrace {
  return { node: 'node-03', ip: '192.168.49.4', role: 'runs the client', packet };
}

function route(lines: string[], extra: { connected?: boolean; counters?: CounterDiff } = {}) {
  const events = parseConntrack(lines.join('\n'));
  const entry = entryTrace();
  const session = userspaceTracer.open(clusterIPPlan(), fakeToolkit());
  const r = session.route(entry, { mine: events[0], events, packet, sport: 24001, connected: extra.connected ?? true, addresses: ADDRESSES, ...(extra.counters ? { counters: extra.counters } : {}) });
  return { r, entry };
}

test('the proxy leg is a connection from this node to an endpoint, not the client\'s and not to another port', () => {
  const events = parseConntrack([MINE, LEG, OTHER].join('\n'));
  assert.equal(proxyLegs({ events, mine: events[0], addresses: ADDRESSES }, clusterIPPlan().endpoints), [events[1]]);
});

test('the backend is the endpoint the proxy dialled; the hop is its connection as the endpoint sees it', () => {
  const { r, entry } = route([MINE, LEG]);
  assert.equal(r.backend, { ip: '10.244.2.3', port: 3306, source: 'userspace proxy' });
  assert.equal(r.hop, { proto: 'tcp', src: '10.244.2.1', sport: 46290, dst: '10.244.2.3', dport: 3306 });
  assert.equal(r.notes, []);
  assert.is(entry.proxy?.port, 35579);
  assert.is(entry.proxy?.candidates, 1);
  assert.is(entry.proxy?.conntrack?.original.sport, 46290);
  assert.is(entry.proxy?.walk, undefined);
});

test('two connections to endpoints during the trace: the first is shown, with a note saying it is ambiguous', () => {
  const { r, entry } = route([MINE, LEG, PROBE]);
  assert.is(entry.proxy?.candidates, 2);
  assert.is(r.backend?.ip, '10.244.2.3');
  assert.equal(r.notes, ["2 connections to the endpoints started on node-03 during the trace (kubelet probes?); the first is shown as the proxy's"]);
});

test('no proxy leg seen: no backend (conntrack\'s reply only points back at the proxy), and a note when the connection worked', () => {
  const { r, entry } = route([MINE]);
  assert.is(r.backend, undefined);
  assert.is(r.hop, undefined);
  assert.equal(entry.proxy, { candidates: 0, port: 35579 });
  assert.equal(r.notes, ["the proxy's connection to an endpoint was not seen in conntrack on node-03"]);
  assert.equal(route([MINE], { connected: false }).r.notes, []);
});

test('with rule counters, the proxy leg gets its own walk of the entry node\'s rules (locally sent: nat OUTPUT first)', () => {
  const dump = (n: string) => parseIptablesSave(readFileSync(join(fixtures, n), 'utf8'));
  const counters = new CounterDiff(dump('userspace-node-03.before.txt'), dump('userspace-node-03.after.txt'));
  const { entry } = route([MINE, LEG], { counters });
  assert.equal(entry.proxy?.walk?.hooks.map((h) => `${h.table} ${h.hook}`).slice(0, 1), ['nat OUTPUT']);
});

test.run();
