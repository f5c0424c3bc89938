import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  base32, servicePortChainName, localPolicyChainName, externalChainName, firewallChainName, endpointChainName,
  isServiceChainName,
} from '../../src/proxy/chain-names.ts';
import {
  hashAndTruncate, servicePortChainNameBase, endpointChainNameBase, nftServiceChain, nftEndpointChain, nftAffinitySet,
} from '../../src/proxy/nftables/names.ts';
import type { ServicePortName } from '../../src/proxy/model.ts';

test('base32 follows RFC 4648 test vectors', () => {
  const enc = (s: string) => base32(new TextEncoder().encode(s));
  assert.is(enc(''), '');
  assert.is(enc('f'), 'MY');
  assert.is(enc('fo'), 'MZXQ');
  assert.is(enc('foo'), 'MZXW6');
  assert.is(enc('foob'), 'MZXW6YQ');
  assert.is(enc('fooba'), 'MZXW6YTB');
  assert.is(enc('foobar'), 'MZXW6YTBOI');
});

test('service chain names match upstream TestOverallIPTablesRules', () => {
  assert.is(servicePortChainName('ns1/svc1:p80', 'tcp'), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.is(servicePortChainName('ns1/svc1:p80', 'TCP'), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.is(servicePortChainName('ns2/svc2:p80', 'tcp'), 'KUBE-SVC-GNZBNJ2PO5MGZ6GT');
  assert.is(localPolicyChainName('ns2/svc2:p80', 'tcp'), 'KUBE-SVL-GNZBNJ2PO5MGZ6GT');
  assert.is(externalChainName('ns2/svc2:p80', 'tcp'), 'KUBE-EXT-GNZBNJ2PO5MGZ6GT');
  assert.is(firewallChainName('ns5/svc5:p80', 'tcp'), 'KUBE-FW-NUKIZ6OKUXPJNT4C');
});

test('endpoint chain names hash SPN + protocol + endpoint', () => {
  assert.is(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.is(endpointChainName('ns2/svc2:p80', 'tcp', '10.180.0.2:80'), 'KUBE-SEP-RS4RBKLTHTF2IUXJ');
});

test('only kube-proxy service prefixes count as service chains', () => {
  assert.ok(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ'));
  assert.ok(isServiceChainName('KUBE-FW-NUKIZ6OKUXPJNT4C'));
  assert.not.ok(isServiceChainName('KUBE-SERVICES'));
  assert.not.ok(isServiceChainName('KUBE-MARK-MASQ'));
  assert.not.ok(isServiceChainName('DOCKER'));
});

const spn: ServicePortName = { namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP' };

test('nftables names are readable with an 8-character hash (upstream examples)', () => {
  assert.is(servicePortChainNameBase(spn), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.is(nftServiceChain(spn), 'service-ULMVA6XW-ns1/svc1/tcp/p80');
  assert.is(endpointChainNameBase(spn, '10.180.0.1:80'), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.is(nftEndpointChain(spn, '10.180.0.1:80'), 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.is(nftAffinitySet(spn, '10.180.0.1:80'), 'affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
});

test('nftables endpoint names turn IPv6 colons into dots', () => {
  const base = endpointChainNameBase(spn, '[fd00:10:180::1]:80');
  assert.ok(base.endsWith('-ns1/svc1/tcp/p80__fd00.10.180..1/80'), base);
});

test('nftables names longer than 240 are truncated with "..."', () => {
  const long = 'x'.repeat(300);
  const out = hashAndTruncate(long);
  assert.is(out.length, 240);
  assert.ok(out.endsWith('...'));
  assert.is(hashAndTruncate('short'), `${hashAndTruncate('short').slice(0, 8)}-short`);
});

test.run();
