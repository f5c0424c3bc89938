// The pure helpers of apply.ts; applying for real is test/integration/nftables-apply.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nftErrorLines, stripObjectComments } from '../../../src/proxy/nftables/apply.ts';

test('nft errors are reported with the line of the transaction they refer to', () => {
  const input = 'add table ip kube-proxy\nadd chain ip kube-proxy foo\nadd rule ip kube-proxy foo goto nowhere\n';
  const stderr = '/dev/stdin:3:1-40: Error: Could not process rule: No such file or directory\nadd rule ip kube-proxy foo goto nowhere\n^^^^^^^^^^^^^^^^\n';
  assert.equal(nftErrorLines(stderr, input), [
    'line 3: Error: Could not process rule: No such file or directory',
    '    add rule ip kube-proxy foo goto nowhere',
  ]);
  assert.equal(nftErrorLines('Error: Could not open file "x"\n'), ['Error: Could not open file "x"']);
  assert.equal(nftErrorLines('something else\n'), ['something else']);
});

test('object comments are stripped for an nft without them; rule and element comments stay', () => {
  const text = [
    'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    'add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
    'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    'add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }',
  ].join('\n');
  assert.equal(stripObjectComments(text).split('\n'), [
    'add table ip kube-proxy',
    'add chain ip kube-proxy reject-chain',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; }',
    'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    'add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }',
  ]);
});

test.run();
