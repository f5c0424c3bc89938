// IPVS mode's sync loop against a recording command runner: what a second,
// unchanged sync runs (no iptables restore, no jump check, no second kernel
// probe) and what a changed one does. Real-kernel behaviour is in
// test/integration/ipvs-netns.test.ts and the VM lab tests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IpvsBackend } from '../../../src/proxy/ipvs/backend.ts';
import { ProxyMetrics } from '../../../src/proxy/metrics.ts';
import type { CommandRunner } from '../../../src/proxy/jump-rules.ts';
import type { ExecResult } from '../../../src/util/exec.ts';
import { sampleSettings, sampleState } from './sample.ts';

function recorder() {
  const calls: string[] = [];
  let dummy = false;
  const runner: CommandRunner = {
    name: 'node-01',
    async exec(argv): Promise<ExecResult> {
      const cmd = argv.join(' ');
      calls.push(cmd);
      const ok = (stdout = '') => ({ code: 0, stdout, stderr: '' });
      if (cmd === 'uname -r') return ok('6.1.0-50-amd64\n');
      if (cmd.startsWith('ip -o -4 addr show dev kube-ipvs0')) return dummy ? ok('') : { code: 1, stdout: '', stderr: 'Device "kube-ipvs0" does not exist.' };
      if (cmd === 'ip link add kube-ipvs0 type dummy') dummy = true;
      if (cmd.startsWith('ip link show kube-ipvs0')) return dummy ? ok() : { code: 1, stdout: '', stderr: 'does not exist' };
      return ok();
    },
  };
  return { runner, calls, take: () => calls.splice(0) };
}

const count = (calls: string[], prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;

test('first sync: one kernel probe, sysctls, kube-ipvs0, sets, iptables, the missing jumps from one save and one restore', async () => {
  const r = recorder();
  const b = new IpvsBackend(sampleSettings, { runner: r.runner });
  await b.setup();
  await b.sync(sampleState, undefined, new ProxyMetrics());
  const calls = r.take();
  assert.is(count(calls, 'test -e /proc/net/ip_vs'), 1, 'the kernel is probed once (setup), not again by the first sync');
  assert.is(count(calls, 'sysctl -q -w'), 1);
  assert.is(count(calls, 'ip link add kube-ipvs0 type dummy'), 1);
  assert.is(count(calls, 'ipset restore'), 1);
  // The rules, then the jumps the (here empty) save lacks: two restores, no command per jump.
  assert.equal(calls.filter((c) => c.startsWith('iptables')), ['iptables-restore -w --noflush --counters', 'iptables-save', 'iptables-restore -w --noflush']);
  assert.is(count(calls, 'ipvsadm -R'), 1);
});

test('an unchanged sync reads the kernel state and touches no iptables', async () => {
  const r = recorder();
  const b = new IpvsBackend(sampleSettings, { runner: r.runner });
  await b.setup();
  await b.sync(sampleState, undefined, new ProxyMetrics());
  r.take();
  await b.sync(sampleState, undefined, new ProxyMetrics());
  const calls = r.take();
  assert.equal(calls.filter((c) => /iptables|sysctl|test -e|ip link/.test(c)), [], calls.join('\n'));
  assert.ok(calls.includes('ipvsadm -Ln') && calls.includes('ipset save'), 'the diff still reads the kernel');
});

test('a change to the iptables payload (a set becomes empty) restores it at once', async () => {
  const r = recorder();
  const b = new IpvsBackend(sampleSettings, { runner: r.runner });
  await b.setup();
  await b.sync(sampleState, undefined, new ProxyMetrics());
  r.take();
  // Without the NodePort service KUBE-NODE-PORT-TCP is empty, so its rule goes.
  const st = { ...sampleState, services: new Map(sampleState.services) };
  st.services.delete('default/web:http');
  await b.sync(st, undefined, new ProxyMetrics());
  assert.is(count(r.take(), 'iptables-restore -w --noflush --counters'), 1);
});

test.run();
