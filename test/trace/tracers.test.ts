// The choice of tracer per proxy mode (src/trace/trace.ts): every mode has one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ipvsTracer } from '../../src/proxy/ipvs/tracer.ts';
import { iptablesTracer } from '../../src/proxy/iptables/tracer.ts';
import { nftablesTracer } from '../../src/proxy/nftables/tracer.ts';
import { userspaceTracer } from '../../src/proxy/userspace/tracer.ts';
import { tracerFor } from '../../src/trace/trace.ts';
import { EnvironmentError } from '../../src/util/errors.ts';

test('each proxy mode gets its own tracer', () => {
  assert.is(tracerFor('iptables'), iptablesTracer);
  assert.is(tracerFor('nftables'), nftablesTracer);
  assert.is(tracerFor('ipvs'), ipvsTracer);
  assert.is(tracerFor('userspace'), userspaceTracer);
});

test('an unknown mode is an environment error that names it', () => {
  assert.throws(() => tracerFor('ebpf'), (e: unknown) => e instanceof EnvironmentError && /"ebpf"/.test(e.message));
});

test.run();
