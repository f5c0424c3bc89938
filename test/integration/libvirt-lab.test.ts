// Three real VMs (TCG here) on the lab's isolated bridge: build or reuse the
// base image, boot, talk to each VM's agent, ping between VMs and the external
// client, run the bundle on the guest's Node 18, then tear everything down and
// check nothing is left: no domains, qemu processes, disks, taps or namespaces.
// Prints the phase times. Needs root, qemu, /dev/net/tun, and either a cached
// image or debootstrap plus the Debian mirror.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/util/exec.ts';
import { buildImage } from '../../src/image/build.ts';
import { whyNoVms } from './helpers/vm-preconditions.ts';
import { LibvirtDriver, type VmLab } from '../../src/cluster/libvirt/driver.ts';
import { LibvirtBackend } from '../../src/cluster/libvirt/backends.ts';
import { vmsDir } from '../../src/cluster/libvirt/names.ts';
import { listNetns } from '../../src/cluster/common/namespaces.ts';

const skip = await whyNoVms();
const lab = `vmt-${randomBytes(2).toString('hex')}`;
const layout = {
  lab, nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1',
  nodes: [
    { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
    { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
    { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
  ],
  external: { name: 'external', ip: '192.168.49.254' },
};
const driver = new LibvirtDriver({});
const times: Record<string, number> = {};
let up: VmLab | undefined;

if (skip) {
  console.log(`SKIP libvirt-lab: ${skip}`);
  test.skip('three VMs on the lab bridge');
} else {
  test.before(async () => {
    const t0 = performance.now();
    const image = await buildImage({ progress: (p, d) => console.log(`  image ${p}: ${d ?? ''}`) });
    times.image = Math.round((performance.now() - t0) / 100) / 10;
    console.log(`  image ${image.cached ? 'reused' : 'built'}: ${image.dir} (${(image.info.imageBytes / 2 ** 20).toFixed(0)} MiB qcow2)`);
    const t1 = performance.now();
    up = await driver.up(layout, (p, d) => console.log(`  ${p}: ${d ?? ''}`));
    times.up = Math.round((performance.now() - t1) / 100) / 10;
  });

  test.after(async () => {
    for (const n of up?.nodes ?? []) await n.close();
    // Normally a no-op (the last test removed the lab); after a failure it cleans up.
    await driver.down(lab);
    console.log(`  phase times (s): ${JSON.stringify({ ...times, ...driver.times })} backend=${up?.backend}`);
  });

  test('each VM answers over its agent with its own name and address', async () => {
    for (const [i, vm] of up!.nodes.entries()) {
      const r = await vm.exec(['sh', '-c', 'hostname; ip -4 -o addr show dev eth0']);
      const [host, addr] = r.stdout.trim().split('\n');
      assert.is(host, layout.nodes[i].name);
      assert.match(addr, new RegExp(`inet ${layout.nodes[i].ip.replace(/\./g, '\\.')}/24 `));
    }
  });

  test('VMs reach each other and the external client on the isolated bridge', async () => {
    const [n1, n2, n3] = up!.nodes;
    for (const [from, to] of [[n1, '192.168.49.3'], [n2, '192.168.49.4'], [n3, '192.168.49.2'], [n1, '192.168.49.254']] as const) {
      const r = await from.exec(['ping', '-c', '2', '-W', '3', to], { allowFailure: true, timeoutMs: 20_000 });
      assert.is(r.code, 0, `${from.name} -> ${to}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /2 received/);
    }
  });

  test('the driver set node sysctls and host-gw routes, and the guest kernel has IPVS', async () => {
    const vm = up!.nodes[1];
    assert.is((await vm.exec(['sysctl', '-n', 'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'])).stdout, '1\n1\n');
    const routes = (await vm.exec(['ip', 'route'])).stdout;
    assert.match(routes, /10\.244\.0\.0\/24 via 192\.168\.49\.2 dev eth0/);
    assert.match(routes, /10\.244\.2\.0\/24 via 192\.168\.49\.4 dev eth0/);
    assert.match((await vm.exec(['ipvsadm', '-Ln'])).stdout, /IP Virtual Server version/);
  });

  test('the svclab bundle was copied and runs on the guest\'s Node 18', async () => {
    const { bundle } = driver.runtime();
    if (!existsSync(bundle)) {
      console.log(`  (no ${bundle}: npm run build first; bundle check skipped)`);
      return;
    }
    const vm = up!.nodes[0];
    assert.match((await vm.exec(['node', '--version'])).stdout, /^v18\./);
    const r = await vm.exec(['node', bundle, '--version'], { timeoutMs: 120_000 });
    assert.match(r.stdout, /\d+\.\d+\.\d+/);
  });

  test('a second up of the same lab is refused while it exists', async () => {
    try {
      await driver.up(layout);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /already has a network or VMs/);
    }
  });

  test('down leaves no domain, qemu, disk, tap or namespace', async () => {
    for (const n of up!.nodes) await n.close();
    const t = performance.now();
    console.log(`  down: ${await driver.down(lab)}`);
    times.down = Math.round((performance.now() - t) / 100) / 10;
    assert.equal((await listNetns()).filter((n) => n.startsWith(`svclab-${lab}-`)), []);
    assert.not.ok(existsSync(vmsDir(lab)), 'VM directory removed');
    assert.not.ok(existsSync(`/var/lib/svclab/${lab}`), 'lab directory removed');
    const lv = new LibvirtBackend();
    if (await lv.reachable()) assert.equal(await lv.list(lab), []);
    const ps = await run(['pgrep', '-f', `guest=svclab-${lab}-`], { allowFailure: true });
    assert.is(ps.stdout.trim(), '', 'no qemu left');
    assert.not.ok(readdirSync('/run/netns').some((n) => n.includes(lab)));
  });
}

test.run();
