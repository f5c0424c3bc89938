import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCidr, normalizeIP, nthIP, cidrContains, cidrOverlap, subnet, cidrString } from '../../src/util/cidr.ts';

test('normalizes IPv4 with leading zeros as kube-proxy does', () => {
  assert.is(normalizeIP('10.180.00.001'), '10.180.0.1');
  assert.is(normalizeIP('300.1.1.1'), '');
});

test('normalizes IPv6 to RFC 5952 form', () => {
  assert.is(normalizeIP('fd00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.is(normalizeIP('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
});

test('parses a CIDR and rejects host bits with the network named', () => {
  assert.equal(parseCidr('10.96.0.0/12'), { ip: '10.96.0.0', prefix: 12, family: 4 });
  assert.throws(() => parseCidr('10.96.0.1/12'), /host bits set; the network is 10.96.0.0\/12/);
  assert.throws(() => parseCidr('10.96.0.0/33'), /longer than 32 bits/);
  assert.throws(() => parseCidr('banana'), /not a CIDR/);
});

test('nth address: the kubernetes service is .1, kube-dns the 10th', () => {
  const c = parseCidr('10.96.0.0/12');
  assert.is(nthIP(c, 1), '10.96.0.1');
  assert.is(nthIP(c, 10), '10.96.0.10');
  assert.is(nthIP(parseCidr('10.96.0.0/12'), (1 << 20) - 1), '10.111.255.255');
});

test('contains and overlap', () => {
  const svc = parseCidr('10.96.0.0/12');
  assert.ok(cidrContains(svc, '10.100.1.1'));
  assert.not.ok(cidrContains(svc, '10.244.0.1'));
  assert.is(cidrOverlap(svc, parseCidr('10.244.0.0/16')), undefined);
  assert.is(cidrString(cidrOverlap(parseCidr('10.0.0.0/8'), svc)!), '10.96.0.0/12');
});

test('per-node pod CIDR slices', () => {
  const pods = parseCidr('10.244.0.0/16');
  assert.is(cidrString(subnet(pods, 24, 0)), '10.244.0.0/24');
  assert.is(cidrString(subnet(pods, 24, 2)), '10.244.2.0/24');
  assert.throws(() => subnet(pods, 24, 256), /only 256/);
});

test.run();
