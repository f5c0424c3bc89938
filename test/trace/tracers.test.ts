// The choice of tracer per proxy mode: `svclab trace` asks the mode registry,
// and every mode's module carries its own tracer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ipvsTracer } from '../../src/proxy/ipvs/tracer.ts';
import { iptablesTracer } from '../../src/proxy/iptables/tracer.ts';
import { nftablesTracer } from '../../src/proxy/nftables/tracer.ts';
import { userspaceTracer } from '../../src/proxy/userspace/tracer.ts';
import { proxyMode } from '../../src/proxy/modes.ts';
import { PROXY_MODES } from '../../src/k8s/proxy-mode.ts';

test('each proxy mode gets its own tracer from the registry', () => {
  assert.is(proxyMode('iptables').tracer, iptablesTracer);
  assert.is(proxyMode('nftables').tracer, nftablesTracer);
  assert.is(proxyMode('ipvs').tracer, ipvsTracer);
  assert.is(proxyMode('userspace').tracer, userspaceTracer);
});

test('only nftables reads no rule counters (it traces with nft monitor trace instead)', () => {
  assert.equal(PROXY_MODES.filter((m) => !proxyMode(m).tracer.countsRules), ['nftables']);
});

test.run();
