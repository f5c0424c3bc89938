// nftables trace: the temporary table's text, and the reading of real
// `nft monitor trace` output (fixtures/nft-nodeport.trace.txt: an external
// client → 192.168.49.2:30007 in nftables mode, captured with a trace rule
// that matched every packet of the connection, so six packets are in it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mapLookup, packetFields, parseNftTrace, parseTraceLine, traceTableText } from '../../../src/proxy/nftables/trace-parse.ts';

const fixture = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nft-nodeport.trace.txt'), 'utf8');

test('the trace table marks only this connection\'s first packet, after conntrack and before kube-proxy', () => {
  const text = traceTableText('svclab-trace-abc', { proto: 'tcp', src: '10.244.2.2', sport: 21003, dst: '10.96.0.20', dport: 3306 });
  assert.is(
    text,
    [
      'table ip svclab-trace-abc {',
      '  chain prerouting {',
      '    type filter hook prerouting priority -150; policy accept;',
      '    ip saddr 10.244.2.2 ip daddr 10.96.0.20 tcp sport 21003 tcp dport 3306 ct state new meta nftrace set 1',
      '  }',
      '  chain output {',
      '    type filter hook output priority -150; policy accept;',
      '    ip saddr 10.244.2.2 ip daddr 10.96.0.20 tcp sport 21003 tcp dport 3306 ct state new meta nftrace set 1',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const set = traceTableText('t', { proto: 'tcp', src: ['10.244.2.2', '192.168.49.4', '10.244.2.2'], dst: ['10.244.1.3'], dport: 3306 });
  assert.match(set, /ip saddr \{ 10\.244\.2\.2, 192\.168\.49\.4 \} ip daddr 10\.244\.1\.3 tcp dport 3306 ct state new/);
});

test('the trace table refuses anything that is not an address, a port or a plain name', () => {
  assert.throws(() => traceTableText('t', { proto: 'tcp', dst: '10.0.0.1; flush ruleset', dport: 80 }), /not an IPv4 address/);
  assert.throws(() => traceTableText('t', { proto: 'tcp', dst: '10.0.0.1', dport: 70000 }), /not a port/);
  assert.throws(() => traceTableText('T; x', { proto: 'tcp', dst: '10.0.0.1', dport: 80 }), /bad trace table name/);
});

test('trace lines: rule text, comment and verdict apart', () => {
  const ev = parseTraceLine('trace id 1a2b ip kube-proxy cluster-ips-check rule ip daddr 10.96.0.0/12 drop comment "Drop traffic to unallocated ClusterIPs" (verdict drop)');
  assert.equal(ev, { id: '1a2b', table: 'kube-proxy', chain: 'cluster-ips-check', kind: 'rule', text: 'ip daddr 10.96.0.0/12 drop', comment: 'Drop traffic to unallocated ClusterIPs', verdict: 'drop' });
  assert.equal(parseTraceLine('trace id 1a2b ip kube-proxy filter-forward policy accept meta mark 0x00004000')?.verdict, 'accept');
  assert.is(parseTraceLine('conntrack v1.4.7: 3 flow events'), undefined);
});

test('packet lines give the addresses the hook saw', () => {
  const p = packetFields('iif "eth0" ip saddr 192.168.49.254 ip daddr 10.244.2.2 ip ttl 63 tcp sport 21011 tcp dport 80 tcp flags == syn tcp window 64240');
  assert.equal(p, { proto: 'tcp', src: '192.168.49.254', sport: 21011, dst: '10.244.2.2', dport: 80, flags: 'syn' });
});

test('a vmap lookup names the element it hit, spelled as nft lists it', () => {
  const pkt = { proto: 'tcp', src: '10.244.2.2', dst: '10.96.0.10', dport: 53 };
  assert.equal(mapLookup('ip daddr . meta l4proto . th dport vmap @service-ips', pkt), { map: 'service-ips', key: '10.96.0.10 . tcp . 53' });
  assert.equal(mapLookup('fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports', { ...pkt, dport: 30007 }), { map: 'service-nodeports', key: 'tcp . 30007' });
  assert.is(mapLookup('jump services', pkt), undefined);
});

test('NodePort walk from a real trace: services → @service-nodeports → external chain → mark → service chain → numgen → endpoint → dnat → masquerade', () => {
  const { walk, packets } = parseNftTrace(fixture, 'svclab-trace');
  assert.is(packets, 6); // SYN, ACK, data, ACK, FIN, ACK: one trace each; ids are reused, our table's packet line starts each
  const hooks = walk!.hooks.map((h) => `${h.chain}: ${h.steps.map((s) => `${'>'.repeat(s.depth)}${s.chain}`).join(' ')} = ${h.verdict}`);
  assert.equal(hooks, [
    'filter-prerouting-pre-dnat: filter-prerouting-pre-dnat = policy accept',
    'nat-prerouting: nat-prerouting >services >>external-7ZLISZGN-default/web-service/tcp/ >>>mark-for-masquerade >>external-7ZLISZGN-default/web-service/tcp/ >>>service-7ZLISZGN-default/web-service/tcp/ >>>>endpoint-PN27AP7N-default/web-service/tcp/__10.244.2.2/80 = accept',
    'filter-forward: filter-forward filter-forward = policy accept',
    'nat-postrouting: nat-postrouting >masquerading >masquerading = accept',
  ]);
  const steps = walk!.hooks[1].steps;
  assert.equal(steps[1].mapHit, { map: 'service-nodeports', key: 'tcp . 30007' });
  assert.is(steps[1].verdict, 'goto external-7ZLISZGN-default/web-service/tcp/');
  assert.is(steps[3].effect, 'marked for masquerade (0x4000)');
  assert.is(steps[5].pick, 'numgen picked 1: endpoint 2 of 2');
  assert.is(steps[6].effect, 'DNAT to 10.244.2.2:80');
  assert.equal(walk!.nat, { dnat: '10.244.2.2:80', masquerade: true });
  // After DNAT, the forward hook sees the endpoint's address.
  assert.is(walk!.hooks[2].packet.dst, '10.244.2.2');
  // A jump into a chain whose vmap had no element for this packet comes straight back.
  assert.ok(walk!.hooks[0].steps[0].returned);
});

test('no events for our table: no walk', () => {
  assert.equal(parseNftTrace('', 'svclab-trace-x'), { walk: undefined, packets: 0 });
});

test.run();
