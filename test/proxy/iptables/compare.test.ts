// compareLikeUpstream / sortLikeUpstream: the ordering rules of upstream's sortIPTablesRules
// (TestSortIPTablesRules cases) and a readable diff.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareLikeUpstream, lineDiff, sortLikeUpstream } from '../../../src/proxy/iptables/compare.ts';

const lines = (...l: string[]) => l.join('\n') + '\n';

test('tables sort by name; KUBE-NODEPORTS, then KUBE-SERVICES, then KUBE-* alphabetically, then the rest', () => {
  const out = sortLikeUpstream(lines('*nat', ':WHY-IS-THIS-CHAIN-HERE - [0:0]', ':KUBE-ZZZZZ - [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-AAAAA - [0:0]',
    ':KUBE-NODEPORTS - [0:0]', 'COMMIT', '*filter', 'COMMIT'));
  assert.is(out, lines('*filter', 'COMMIT', '*nat', ':KUBE-NODEPORTS - [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-AAAAA - [0:0]', ':KUBE-ZZZZZ - [0:0]',
    ':WHY-IS-THIS-CHAIN-HERE - [0:0]', 'COMMIT'));
});

test('rules group by chain in chain order, keeping their order inside each chain (junk preserved)', () => {
  const input = lines('*filter', 'COMMIT', '*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]', ':KUBE-AAAAA - [0:0]', ':KUBE-ZZZZZ - [0:0]',
    ':WHY-IS-THIS-CHAIN-HERE - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1',
    '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80',
    '-A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"',
    '-A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2',
    '-A WHY-IS-THIS-CHAIN-HERE -j ACCEPT',
    '-A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3',
    '-A KUBE-AAAAA -m comment --comment "mystery chain number 2"',
    'COMMIT');
  assert.is(sortLikeUpstream(input), lines('*filter', 'COMMIT', '*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-AAAAA - [0:0]', ':KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]',
    ':KUBE-ZZZZZ - [0:0]', ':WHY-IS-THIS-CHAIN-HERE - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1',
    '-A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2',
    '-A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3',
    '-A KUBE-AAAAA -m comment --comment "mystery chain number 2"',
    '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80',
    '-A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"',
    '-A WHY-IS-THIS-CHAIN-HERE -j ACCEPT',
    'COMMIT'));
});

test('KUBE-SERVICES rules sort stably by the service name in the comment, whatever the comment style', () => {
  const svc = (n: number, a: string, b: string, c: string) => [
    `-A KUBE-SERVICES -m comment --comment ${a} svc${n} line 1`, `-A KUBE-SERVICES -m comment --comment ${b} svc${n} line 2`,
    `-A KUBE-SERVICES -m comment --comment ${c} svc${n} line 3`];
  const s1 = svc(1, '"ns1/svc1:p80 cluster IP"', 'ns1/svc1', '"ns1/svc1 blah"');
  const s2 = svc(2, '"ns2/svc2:p80 cluster IP"', 'ns2/svc2', '"ns2/svc2 blah"');
  const s3 = svc(3, '"ns3/svc3:p80 cluster IP"', '"ns3/svc3 blah"', 'ns3/svc3');
  const s4 = svc(4, 'ns4/svc4', '"ns4/svc4:p80 cluster IP"', '"ns4/svc4 blah"');
  const out = sortLikeUpstream(lines('*filter', 'COMMIT', '*nat', ':KUBE-SERVICES - [0:0]', ...s2, ...s1, ...s4, ...s3, 'COMMIT'));
  assert.is(out, lines('*filter', 'COMMIT', '*nat', ':KUBE-SERVICES - [0:0]', ...s1, ...s2, ...s3, ...s4, 'COMMIT'));
});

test('the "must be the last rule" NodePort jump stays last in nat KUBE-SERVICES; -X lines go after all rules', () => {
  const out = sortLikeUpstream(lines('*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-B - [0:0]', ':KUBE-SVC-A - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
    '-X KUBE-SVC-B', '-A KUBE-SERVICES -m comment --comment "ns1/a cluster IP" -j X', '-X KUBE-SVC-A', 'COMMIT'));
  assert.is(out, lines('*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-A - [0:0]', ':KUBE-SVC-B - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "ns1/a cluster IP" -j X',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
    '-X KUBE-SVC-A', '-X KUBE-SVC-B', 'COMMIT'));
});

test('compareLikeUpstream ignores service order but not rule order within a chain', () => {
  const a = lines('*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-A - [0:0]', '-A KUBE-SVC-A -j X', '-A KUBE-SVC-A -j Y',
    '-A KUBE-SERVICES -m comment --comment "ns1/a cluster IP" -j A', '-A KUBE-SERVICES -m comment --comment "ns2/b cluster IP" -j B', 'COMMIT');
  const reordered = lines('*nat', ':KUBE-SVC-A - [0:0]', ':KUBE-SERVICES - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "ns2/b cluster IP" -j B', '-A KUBE-SVC-A -j X', '-A KUBE-SERVICES -m comment --comment "ns1/a cluster IP" -j A',
    '-A KUBE-SVC-A -j Y', 'COMMIT');
  assert.ok(compareLikeUpstream(a, reordered).equal);
  const swapped = a.replace('-A KUBE-SVC-A -j X\n-A KUBE-SVC-A -j Y', '-A KUBE-SVC-A -j Y\n-A KUBE-SVC-A -j X');
  const cmp = compareLikeUpstream(a, swapped);
  assert.not.ok(cmp.equal);
  assert.match(cmp.diff, /^[-+] -A KUBE-SVC-A/m);
});

test('lineDiff marks removals with "-" and additions with "+"', () => {
  assert.is(lineDiff(['a', 'b', 'c'], ['a', 'c', 'd']), '- b\n+ d');
  assert.is(lineDiff(['x'], ['x']), '');
});

test.run();
