// The one list of proxy modes and the parse helpers the CLI and daemon use at
// their edges: an unknown mode gets the same words as in a lab file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isProxyMode, parseProxyMode, parseProxyModeList, PROXY_MODES } from '../../src/k8s/proxy-mode.ts';
import { oneOf } from '../../src/lab/fields.ts';
import { EnvironmentError, LabFileError } from '../../src/util/errors.ts';

test('the modes, in the matrix column order (upstream default first)', () => {
  assert.equal([...PROXY_MODES], ['iptables', 'nftables', 'ipvs', 'userspace']);
  assert.ok(isProxyMode('ipvs'));
  assert.not.ok(isProxyMode('ebpf'));
  assert.not.ok(isProxyMode('IPVS'));
});

test('a known mode parses to itself', () => {
  for (const m of PROXY_MODES) assert.is(parseProxyMode(m), m);
});

test('an unknown --mode is a LabFileError with the lab file\'s message', () => {
  const err = (() => {
    try {
      parseProxyMode('ebpf');
    } catch (e) {
      return e;
    }
  })();
  assert.instance(err, LabFileError);
  assert.is((err as Error).message, 'unknown proxy mode "ebpf"; valid proxy modes: iptables, nftables, ipvs, userspace');
  // The schema's field says the very same.
  const schema = oneOf(PROXY_MODES, 'proxy mode').safeParse('ebpf');
  assert.is(schema.error?.issues[0].message, (err as Error).message);
});

test('--modes: each mode once, in the order given; unknown or none is an EnvironmentError naming the modes', () => {
  assert.equal(parseProxyModeList('ipvs, iptables,ipvs'), ['ipvs', 'iptables']);
  assert.throws(() => parseProxyModeList('iptables,ebpf'), (e: unknown) => e instanceof EnvironmentError && e.message === '--modes iptables,ebpf: unknown mode ebpf' && e.hint === 'modes: iptables, nftables, ipvs, userspace');
  assert.throws(() => parseProxyModeList(' , '), (e: unknown) => e instanceof EnvironmentError && /no mode given/.test(e.message));
});

test.run();
