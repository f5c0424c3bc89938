// The VM of a node as qemu argv and as libvirt domain XML, compared with
// golden files: what svclab asks qemu/libvirt to run, byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { domainXml, emulatorWrapper, kernelCmdline, qemuArgv, type VmSpec } from '../../../src/cluster/libvirt/vm-spec.ts';
import { domainName, macAddress, tapName, vmPaths } from '../../../src/cluster/libvirt/names.ts';
import { LabFileError } from '../../../src/util/errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
function golden(name: string, actual: string) {
  const file = join(here, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
  assert.fixture(actual, readFileSync(file, 'utf8'));
}

const spec: VmSpec = {
  lab: 'clusterip-db', node: 'node-01', domain: domainName('clusterip-db', 'node-01'),
  memoryMiB: 320, vcpus: 1, accel: 'tcg', tbCacheMiB: 64, cpuModel: 'qemu64',
  kernel: '/var/cache/svclab/images/bookworm-x/vmlinuz', initrd: '/var/cache/svclab/images/bookworm-x/initrd.img',
  ip: '192.168.49.2/24', gateway: '192.168.49.1', tap: tapName('node-01', 0), mac: macAddress('clusterip-db', 'node-01'),
  paths: vmPaths('clusterip-db', 'node-01'),
};

test('names: domain, tap within IFNAMSIZ, stable MAC', () => {
  assert.is(spec.domain, 'svclab-clusterip-db-node-01');
  assert.is(spec.tap, 't-node-01');
  assert.is(tapName('a-very-long-node-name', 4), 'ti4');
  assert.match(spec.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.is.not(macAddress('clusterip-db', 'node-02'), spec.mac);
  assert.is(macAddress('clusterip-db', 'node-01'), spec.mac);
});

test('names: unsafe lab names never reach a path or command', () => {
  assert.throws(() => domainName('../etc', 'node-01'), (e: unknown) => e instanceof LabFileError);
  assert.throws(() => vmPaths('lab', 'Node 1'), (e: unknown) => e instanceof LabFileError);
});

test('kernel command line carries the per-VM settings', () => {
  const cmd = kernelCmdline(spec);
  assert.match(cmd, /root=\/dev\/vda /);
  assert.match(cmd, /init=\/sbin\/svclab-init/);
  assert.match(cmd, /svclab\.hostname=node-01 svclab\.ip=192\.168\.49\.2\/24 svclab\.gw=192\.168\.49\.1/);
});

test('qemu argv (TCG, translation cache bounded, agent on virtio-serial)', () => {
  golden('qemu-argv.expected.txt', qemuArgv(spec).join('\n') + '\n');
  const kvm = qemuArgv({ ...spec, accel: 'kvm' });
  assert.ok(kvm.includes('kvm') && kvm.includes('host'));
});

test('libvirt domain XML (type qemu, tap via qemu:commandline, emulator wrapper)', () => {
  golden('domain.expected.xml', domainXml(spec, '/var/lib/svclab/clusterip-db/qemu-in-netns'));
  assert.match(domainXml({ ...spec, accel: 'kvm' }, '/x'), /<domain type='kvm'[\s\S]*<cpu mode='host-passthrough'\/>/);
  assert.match(domainXml({ ...spec, cpuModel: 'max' }, '/x'), /<cpu mode='maximum' check='none'\/>/);
});

test('a libvirt network of the user\'s host: an <interface> libvirt manages, plain qemu, no tap passthrough', () => {
  const xml = domainXml({ ...spec, nic: { kind: 'network', name: 'default' } }, '/usr/bin/qemu-system-x86_64');
  assert.match(xml, /<interface type='network'>\n\s+<source network='default'\/>\n\s+<mac address='52:54:00:[0-9a-f:]+'\/>\n\s+<model type='virtio'\/>/);
  assert.not.match(xml, /qemu:commandline>/);
  assert.is(xml.match(/<devices>/g)!.length, 1);
  assert.match(domainXml({ ...spec, nic: { kind: 'bridge', name: 'br-lab' } }, '/x'), /<interface type='bridge'>\n\s+<source bridge='br-lab'\/>/);
  assert.throws(() => qemuArgv({ ...spec, nic: { kind: 'bridge', name: 'br-lab' } }), /needs the libvirt backend/);
});

test('emulator wrapper enters the lab namespace and passes every argument', () => {
  const w = emulatorWrapper('svclab-lab-net');
  assert.ok(w.startsWith('#!/bin/sh\n'));
  assert.ok(w.endsWith('exec ip netns exec svclab-lab-net /usr/bin/qemu-system-x86_64 "$@"\n'));
  assert.match(w, /\[ -e \/dev\/net\/tun \] \|\| /);
});

test.run();
