// list.fixture.json is real `nft -j list table ip kube-proxy` output of nft 1.0.6
// after loading one of our full transactions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalTable, chainRules, findElements, mapValue, parseNftJson } from '../../../src/proxy/nftables/list-parse.ts';
import { readExpected } from './helpers.ts';

const json = readExpected('list.fixture.json');
const view = parseNftJson(json);

test('map elements read as "key : value", with element comments', () => {
  assert.is(mapValue(view, 'service-ips', '172.30.0.41 . tcp . 80'), 'goto service-ULMVA6XW-ns1/svc1/tcp/p80');
  assert.is(mapValue(view, 'service-nodeports', 'tcp . 3002'), 'goto external-HVFWP5L3-ns5/svc5/tcp/p80');
  const noEp = findElements(view, 'no-endpoint-services', { key: '172.30.0.46 . tcp . 80' });
  assert.equal(noEp, [{ key: '172.30.0.46 . tcp . 80', value: 'goto reject-chain', comment: 'ns6/svc6:p80' }]);
  assert.is(findElements(view, 'service-ips', { value: /^goto external-/ }).length, 3);
  assert.equal(findElements(view, 'cluster-ips').map((e) => e.key), ['172.30.0.41', '172.30.0.42', '172.30.0.45', '172.30.0.46']);
  assert.is(mapValue(view, 'service-ips', '10.0.0.1 . tcp . 80'), undefined);
});

test('chain rules read back as nft-like text, comments apart', () => {
  assert.equal(chainRules(view, 'service-HVFWP5L3-ns5/svc5/tcp/p80'), [
    'ip daddr 172.30.0.45 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
    'ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
    'ip saddr @affinity-PCTS6QRA-ns5/svc5/tcp/p80__10.180.0.4/80 goto endpoint-PCTS6QRA-ns5/svc5/tcp/p80__10.180.0.4/80',
    'numgen random mod 2 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80, 1 : goto endpoint-PCTS6QRA-ns5/svc5/tcp/p80__10.180.0.4/80 }',
  ]);
  assert.equal(chainRules(view, 'endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80'), [
    'ip saddr 10.180.0.3 jump mark-for-masquerade',
    'update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }',
    'meta l4proto tcp dnat to 10.180.0.3:80',
  ]);
  assert.equal(chainRules(view, 'masquerading'), ['meta mark & 0x4000 == 0 return', 'meta mark set meta mark ^ 0x4000', 'masquerade fully-random']);
  assert.equal(chainRules(view, 'firewall-HVFWP5L3-ns5/svc5/tcp/p80'), ['ip saddr != { 5.6.7.8, 192.168.0.0/24, 203.0.113.0/25 } drop']);
  const ext = view.chains.get('external-42NFTM6N-ns2/svc2/tcp/p80')!;
  assert.equal(ext.rules.map((r) => r.comment), ['short-circuit pod traffic', 'masquerade local traffic', 'short-circuit local traffic']);
  assert.equal(view.chains.get('filter-prerouting-pre-dnat')!.base, { type: 'filter', hook: 'prerouting', priority: -110, policy: 'accept' });
  assert.equal(chainRules(view, 'no-such-chain'), []);
});

test('sets keep type, flags and timeout; maps their verdict type', () => {
  assert.is(view.maps.get('service-ips')!.type, 'ipv4_addr . inet_proto . inet_service : verdict');
  const aff = view.sets.get('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80')!;
  assert.is(aff.timeout, 10800);
  assert.ok(aff.flags.includes('timeout'));
});

test('the canonical form ignores handles and element order, and sees a changed element', () => {
  const doc = JSON.parse(json);
  for (const o of doc.nftables) for (const v of Object.values(o) as any[]) if (v && typeof v === 'object' && 'handle' in v) v.handle += 1000;
  const m = doc.nftables.find((o: any) => o.map?.name === 'service-ips').map;
  m.elem.reverse();
  assert.is(canonicalTable(parseNftJson(JSON.stringify(doc))), canonicalTable(view));
  m.elem[0][1] = { drop: null };
  assert.is.not(canonicalTable(parseNftJson(JSON.stringify(doc))), canonicalTable(view));
});

test('output that is not nft JSON is an error', () => {
  assert.throws(() => parseNftJson('{"foo": []}'), /not nft JSON/);
});

test.run();
