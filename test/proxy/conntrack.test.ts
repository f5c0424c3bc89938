// conntrack lines (captured `conntrack -L` and `conntrack -E` in lab nodes) and
// the generic conntrack parse: tuples before and after NAT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOriginal, latestPerConnection, natOf, parseConntrack, parseConntrackLine } from '../../src/proxy/conntrack.ts';

const fixture = (n: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', n), 'utf8');

test('a listed entry: original and reply tuples, state and flags', () => {
  const e = parseConntrackLine('tcp      6 119 TIME_WAIT src=192.168.49.254 dst=192.168.49.2 sport=21011 dport=30007 src=10.244.2.2 dst=192.168.49.2 sport=80 dport=20785 [ASSURED] mark=0 use=1');
  assert.equal(e, {
    proto: 'tcp',
    state: 'TIME_WAIT',
    original: { src: '192.168.49.254', dst: '192.168.49.2', sport: 21011, dport: 30007 },
    reply: { src: '10.244.2.2', dst: '192.168.49.2', sport: 80, dport: 20785 },
    flags: ['ASSURED'],
  });
  // NodePort from outside with masquerade: both ends rewritten.
  assert.equal(natOf(e!), { dnat: { from: '192.168.49.2:30007', to: '10.244.2.2:80' }, snat: { from: '192.168.49.254:21011', to: '192.168.49.2:20785' } });
});

test('events: the [NEW]/[UPDATE] prefix, an UNREPLIED first event, and one entry per connection', () => {
  const events = parseConntrack(fixture('conntrack-events.txt'));
  assert.is(events.length, 11);
  assert.is(events[0].event, 'NEW');
  assert.equal(events[0].flags, ['UNREPLIED']);
  assert.is(events[0].reply.src, '10.244.1.3');
  const ours = latestPerConnection(findOriginal(events, { proto: 'tcp', src: '10.244.2.2', dport: 3306 }));
  assert.is(ours.length, 1);
  assert.is(ours[0].state, 'TIME_WAIT');
  // The kubelet's readiness probe to the local replica is another connection in the same window.
  const probes = latestPerConnection(findOriginal(events, { src: '10.244.2.1' }));
  assert.equal(probes.map((p) => `${p.original.dst}:${p.original.dport}`), ['10.244.2.3:3306']);
  assert.equal(natOf(ours[0]), { dnat: { from: '10.102.159.169:3306', to: '10.244.1.3:3306' } });
});

test('a userspace-mode listing full of probes: the client\'s entry is found by its source port', () => {
  const entries = parseConntrack(fixture('conntrack-list.txt'));
  assert.is(entries.length, 9);
  const mine = findOriginal(entries, { dst: '10.106.141.239', sport: 24001 });
  assert.is(mine.length, 1);
  // The portal's REDIRECT: the reply comes from the proxy's port on the cni0 address the packet came in on.
  assert.equal(natOf(mine[0]), { dnat: { from: '10.106.141.239:3306', to: '10.244.2.1:35579' } });
  // Without a source port, the kubelet's probes to the same endpoint are indistinguishable from the proxy's leg.
  assert.is(findOriginal(entries, { src: '10.244.2.1', dst: '10.244.2.3', dport: 3306 }).length, 6);
});

test('summary lines and garbage are not entries', () => {
  assert.is(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 11 flow events have been shown.'), undefined);
  assert.is(parseConntrackLine(''), undefined);
  assert.is(parseConntrackLine('tcp 6 10 CLOSE src=1.2.3.4'), undefined);
});

test('udp entries have no state', () => {
  const e = parseConntrackLine('udp      17 29 src=10.244.1.2 dst=10.96.0.10 sport=53311 dport=53 src=10.244.0.2 dst=10.244.1.2 sport=53 dport=53311 mark=0 use=1');
  assert.is(e?.state, undefined);
  assert.equal(natOf(e!).dnat, { from: '10.96.0.10:53', to: '10.244.0.2:53' });
});

test.run();
