// The Pulumi dynamic providers' create / read / update / delete, for real,
// against libvirtd: the provider objects the stack serializes, called the way
// Pulumi's provider host calls them. One VM (CPU is scarce). Needs root,
// libvirtd answering at qemu:///system and a cached base image.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { findCachedImage } from '../../src/image/build.ts';
import { LibvirtBackend } from '../../src/cluster/libvirt/backends.ts';
import { LibvirtDriver } from '../../src/cluster/libvirt/driver.ts';
import { fileSha256 } from '../../src/cluster/libvirt/resources.ts';
import { listNetns } from '../../src/cluster/common/namespaces.ts';
import { bundleProvider, domainProvider, networkProvider, volumeProvider } from '../../stacks/providers.ts';

const libvirt = new LibvirtBackend('qemu:///system');

async function whyNot(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (!(await libvirt.reachable().catch(() => false))) return 'libvirtd does not answer at qemu:///system (scripts/setup-vm-host.sh starts it)';
  if (!findCachedImage()) return 'no cached VM base image (test/integration/libvirt-lab.test.ts or `svclab image build` makes it)';
  return undefined;
}

const skip = await whyNot();
const lab = `vmp-${randomBytes(2).toString('hex')}`;
const layout = {
  lab, nodeNetwork: '192.168.50.0/24', gateway: '192.168.50.1',
  nodes: [{ name: 'node-01', ip: '192.168.50.2', podCIDR: '10.244.0.0/24' }],
  external: { name: 'external', ip: '192.168.50.254' },
};
const tmp = mkdtempSync(join(tmpdir(), 'svclab-prov-'));
const state: Record<string, any> = {};

if (skip) {
  console.log(`SKIP libvirt-providers: ${skip}`);
  test.skip('dynamic providers against libvirtd');
} else {
  test.after(async () => {
    // Whatever a failed step left behind.
    await new LibvirtDriver({ uri: 'qemu:///system' }).down(lab).catch((e) => console.log(`  cleanup: ${e.message}`));
    rmSync(tmp, { recursive: true, force: true });
  });

  test('network: create makes the lab namespaces, read finds them', async () => {
    state.network = await networkProvider.create({ lab, nodeNetwork: layout.nodeNetwork, gateway: layout.gateway, nodes: layout.nodes, external: layout.external });
    assert.is(state.network.id, `svclab-${lab}-net`);
    assert.ok((await listNetns()).includes(`svclab-${lab}-external`));
    assert.is((await networkProvider.read!(state.network.id, state.network.outs)).id, state.network.id);
  });

  test('volume: create makes the overlay on the base image', async () => {
    state.volume = await volumeProvider.create({ lab, node: 'node-01', image: '' });
    assert.ok(existsSync(state.volume.outs.disk));
    assert.is((await volumeProvider.read!(state.volume.id, state.volume.outs)).props.disk, state.volume.outs.disk);
  });

  test('domain: create defines and starts a libvirt domain whose agent answers; read sees it running', async () => {
    const t = performance.now();
    state.domain = await domainProvider.create({ layout, index: 0, disk: state.volume.outs.disk, image: '', memoryMiB: 320, vcpus: 1, backend: 'libvirt', uri: 'qemu:///system' });
    console.log(`  domain up in ${((performance.now() - t) / 1000).toFixed(1)} s (${state.domain.outs.accelUsed})`);
    assert.is(state.domain.id, `svclab-${lab}-node-01`);
    assert.is(state.domain.outs.backendKind, 'libvirt');
    assert.equal(await libvirt.list(lab), [state.domain.id]);
    assert.is((await domainProvider.read!(state.domain.id, state.domain.outs)).id, state.domain.id);
  });

  test('diff: new memory replaces the domain, the same inputs change nothing', async () => {
    const same = await domainProvider.diff!(state.domain.id, state.domain.outs, { ...state.domain.outs });
    assert.is(same.changes, false);
    const more = await domainProvider.diff!(state.domain.id, state.domain.outs, { ...state.domain.outs, memoryMiB: 384 });
    assert.equal(more.replaces, ['memoryMiB']);
  });

  test('bundle: create copies a file into the VM, update copies the new version, read checks its hash', async () => {
    const file = join(tmp, 'svclab.mjs');
    writeFileSync(file, 'console.log("v1")\n');
    state.bundle = await bundleProvider.create({ lab, node: 'node-01', bundle: file, sha256: fileSha256(file) });
    assert.ok(await bundleProvider.read!(state.bundle.id, state.bundle.outs).then((r) => r.id));
    writeFileSync(file, 'console.log("v2")\n');
    const news = { ...state.bundle.outs, sha256: fileSha256(file) };
    const d = await bundleProvider.diff!(state.bundle.id, state.bundle.outs, news);
    assert.equal([d.changes, d.replaces], [true, []]);
    // The VM still holds v1: read reports drift for the new hash.
    assert.equal(await bundleProvider.read!(state.bundle.id, news), {});
    await bundleProvider.update!(state.bundle.id, state.bundle.outs, news);
    assert.is((await bundleProvider.read!(state.bundle.id, news)).id, state.bundle.id);
  });

  test('delete: domain, volume and network go, and read says so', async () => {
    await domainProvider.delete!(state.domain.id, state.domain.outs);
    assert.equal(await libvirt.list(lab), []);
    assert.equal(await domainProvider.read!(state.domain.id, state.domain.outs), {});
    await volumeProvider.delete!(state.volume.id, state.volume.outs);
    assert.equal(await volumeProvider.read!(state.volume.id, state.volume.outs), {});
    await networkProvider.delete!(state.network.id, state.network.outs);
    assert.equal(await networkProvider.read!(state.network.id, state.network.outs), {});
    assert.equal((await listNetns()).filter((n) => n.startsWith(`svclab-${lab}-`)), []);
    assert.not.ok(existsSync(`/var/lib/svclab/${lab}`), 'lab directory removed');
  });
}

test.run();
