// The iptables-save parser and normalizeRule, checked against real iptables-save
// output captured from a throwaway netns (fixtures/overall.*-save.txt; regenerate with
// test/integration/iptables-roundtrip.test.ts, which runs the same check live).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chainNames, findChain, normalizeRule, parseIptablesSave, parseRule, tokenize,
} from '../../../src/proxy/iptables/save-parse.ts';

const fixture = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', name), 'utf8');

test('tokenize keeps quoted words together and unescapes \\" inside them', () => {
  assert.equal(tokenize('-A X -m comment --comment "a b" -j Y'), ['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
  assert.equal(tokenize('--comment "say \\"hi\\"" x'), ['--comment', 'say "hi"', 'x']);
  assert.equal(tokenize('  a   b  '), ['a', 'b']);
});

test('parses tables, chain policies and counters, rules with comment, target and jump', () => {
  const dump = parseIptablesSave(fixture('overall.iptables-nft-save.txt'));
  assert.equal(dump.tables.map((t) => t.name), ['filter', 'nat']);
  const input = findChain(dump, 'filter', 'INPUT')!;
  assert.is(input.policy, 'ACCEPT');
  assert.is(findChain(dump, 'nat', 'KUBE-SERVICES')!.policy, '-');
  const fw = findChain(dump, 'filter', 'KUBE-PROXY-FIREWALL')!.rules[0];
  assert.is(fw.comment, 'ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C');
  assert.is(fw.target, 'DROP');
  assert.is(fw.jump, undefined);
  const svc = findChain(dump, 'nat', 'KUBE-SERVICES')!.rules[0];
  assert.is(svc.jump, 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.ok(chainNames(dump, 'nat').includes('KUBE-SEP-SXIVWICOYRO3J4NJ'));
  assert.is(chainNames(dump, 'nat').length, 24);
});

test('reads -c counters and -X chain deletions', () => {
  const dump = parseIptablesSave('*nat\n:PREROUTING ACCEPT [12:720]\n:KUBE-SVC-A - [0:0]\n[3:180] -A PREROUTING -j KUBE-SVC-A\n-X KUBE-SVC-A\nCOMMIT\n');
  const pre = findChain(dump, 'nat', 'PREROUTING')!;
  assert.equal([pre.packets, pre.bytes], [12, 720]);
  assert.equal(pre.rules[0].counters, { packets: 3, bytes: 180 });
  assert.is(findChain(dump, 'nat', 'KUBE-SVC-A')!.deleted, true);
});

test('bad input names the line', () => {
  assert.throws(() => parseIptablesSave('*nat\nbogus line\nCOMMIT\n'), /line 2: cannot read "bogus line"/);
});

test('normalizeRule: rendered spelling and the kernel spelling are equal', () => {
  const pairs: Array<[string, string]> = [
    ['-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'],
    ['-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000', '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0'],
    ['-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN', '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'],
    ['-A X -m comment --comment "a -> b" -m statistic --mode random --probability 0.3333333333 -j Y',
      '-A X -m comment --comment "a -> b" -m statistic --mode random --probability 0.33333333349 -j Y'],
    ['-A X -m statistic --mode random --probability 0.0000099999 -j Y', '-A X -m statistic --mode random --probability 0.00001000008 -j Y'],
    ['-A KUBE-SEP-I -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80',
      '-A KUBE-SEP-I -p tcp -m comment --comment "ns5/svc5:p80" -m recent --set --name KUBE-SEP-I --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.3:80'],
    ['-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
      '-A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'],
    ['-A KUBE-SERVICES -m comment --comment "x; NOTE: y" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS',
      '-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment "x; NOTE: y" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'],
    ['-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'],
  ];
  for (const [rendered, saved] of pairs) assert.is(normalizeRule(rendered), normalizeRule(saved), rendered);
});

test('normalizeRule keeps real differences apart', () => {
  const base = '-A X -m tcp -p tcp -d 10.0.0.1 --dport 80 -j Y';
  assert.is.not(normalizeRule(base), normalizeRule(base.replace('--dport 80', '--dport 81')));
  assert.is.not(normalizeRule(base), normalizeRule(base.replace('-d 10.0.0.1', '! -d 10.0.0.1')));
  assert.is.not(normalizeRule(base), normalizeRule(base.replace('-j Y', '-j Z')));
  assert.is.not(normalizeRule('-A X -j MARK --or-mark 0x4000'), normalizeRule('-A X -j MARK --xor-mark 0x4000'));
  assert.is.not(
    normalizeRule('-A X -m statistic --mode random --probability 0.5000000000 -j Y'),
    normalizeRule('-A X -m statistic --mode random --probability 0.3333333333 -j Y'),
  );
});

test('parseRule exposes the matches a packet tracer needs', () => {
  const r = parseRule('-A KUBE-SVC-A -m comment --comment "c" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ');
  assert.equal(r.basic.get('-s'), { negated: true, value: '10.0.0.0/8' });
  assert.equal(r.matches.map((m) => m.name), ['comment', 'tcp']);
  assert.equal(r.matches[1].options, [{ negated: false, name: '--dport', values: ['80'] }]);
  assert.is(r.target, 'KUBE-MARK-MASQ');
});

for (const backend of ['nft', 'legacy']) {
  test(`every rendered rule reads back from iptables-${backend}-save, chain by chain, in order`, () => {
    const payload = parseIptablesSave(fixture('overall.payload.txt'));
    const saved = parseIptablesSave(fixture(`overall.iptables-${backend}-save.txt`));
    for (const table of payload.tables) {
      for (const chain of table.chains) {
        const want = chain.rules.map((r) => normalizeRule(r.raw));
        const got = (findChain(saved, table.name, chain.name)?.rules ?? []).map((r) => normalizeRule(r.raw));
        assert.equal(got, want, `${table.name} ${chain.name}`);
      }
    }
  });
}

test.run();
