// The IPVS kernel check, against a scripted node: what it runs and what it says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ipvsKernelError, ipvsKernelSupport, requireIpvsKernel } from '../../../src/proxy/ipvs/kernel.ts';
import type { CommandRunner } from '../../../src/proxy/jump-rules.ts';
import { EnvironmentError } from '../../../src/util/errors.ts';

function fakeNode(opts: { ipvs: boolean; dummy: boolean; modprobeFixes?: boolean }): CommandRunner & { ran: string[] } {
  let ipvs = opts.ipvs;
  const ran: string[] = [];
  return {
    name: 'node-01',
    ran,
    async exec(argv) {
      ran.push(argv.join(' '));
      const ok = (stdout = '') => ({ code: 0, stdout, stderr: '' });
      const fail = (stderr: string) => ({ code: 1, stdout: '', stderr });
      if (argv[0] === 'uname') return ok('6.18.44-fc-v595\n');
      if (argv[0] === 'test') return ipvs ? ok() : fail('');
      if (argv[0] === 'modprobe') {
        if (opts.modprobeFixes && argv[1] === 'ip_vs') ipvs = true;
        return opts.modprobeFixes ? ok() : fail('modprobe: FATAL: Module ip_vs not found');
      }
      if (argv.join(' ') === 'ip link add svclab-dprobe type dummy') return opts.dummy ? ok() : { code: 2, stdout: '', stderr: 'Error: Unknown device type.\n' };
      return ok();
    },
  };
}

test('a kernel without ip_vs is refused with the kernel version and what to do instead', async () => {
  const node = fakeNode({ ipvs: false, dummy: false });
  const report = await ipvsKernelSupport(node);
  assert.equal(report, { kernel: '6.18.44-fc-v595', ipvs: false, dummy: false, dummyError: 'Error: Unknown device type.' });
  const err = ipvsKernelError(report)!;
  assert.instance(err, EnvironmentError);
  assert.is(err.message, "IPVS mode needs the kernel's ip_vs (this kernel 6.18.44-fc-v595 has none: /proc/net/ip_vs is missing); run this lab with --driver libvirt, or choose --mode iptables|nftables");
  // No module loading unless asked: on the netns driver it would change the host kernel.
  assert.not.ok(node.ran.some((c) => c.startsWith('modprobe')));
});

test('ip_vs present but no dummy links is its own precise error', async () => {
  const err = ipvsKernelError(await ipvsKernelSupport(fakeNode({ ipvs: true, dummy: false })))!;
  assert.match(err.message, 'IPVS mode needs dummy links for kube-ipvs0 (this kernel 6.18.44-fc-v595 has none: ip link add type dummy said "Error: Unknown device type.")');
});

test('with loadModules a modular kernel gets modprobe ip_vs first (libvirt VMs)', async () => {
  const node = fakeNode({ ipvs: false, dummy: true, modprobeFixes: true });
  await requireIpvsKernel(node, { loadModules: true });
  assert.ok(node.ran.includes('modprobe ip_vs'));
  assert.ok(node.ran.includes('ip link del svclab-dprobe'), 'the probe link is removed again');
});

test('a kernel with both passes', async () => {
  assert.is(ipvsKernelError(await ipvsKernelSupport(fakeNode({ ipvs: true, dummy: true }))), undefined);
});

test.run();
