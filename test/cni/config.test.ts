import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniConfig, cniGateway, readCniConfig, writeCniConfig } from '../../src/cni/config.ts';

const base = { podCIDR: '10.244.1.0/24', dataDir: '/var/lib/svclab/lab/nodes/node-02/cni/ipam' };

test('a node gets bridge cni0 + host-local over its pod CIDR, then loopback', () => {
  assert.equal(cniConfig(base), {
    cniVersion: '1.0.0',
    name: 'svclab',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        hairpinMode: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.244.1.0/24' }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: '/var/lib/svclab/lab/nodes/node-02/cni/ipam',
        },
      },
      { type: 'loopback' },
    ],
  });
});

test('hairpin on and masquerade off: pods reach themselves via a Service, keep their source IP', () => {
  const bridge = cniConfig(base).plugins[0];
  assert.is(bridge.hairpinMode, true);
  assert.is(bridge.ipMasq, false);
});

test('an explicit gateway goes into the range; one outside the pod CIDR is refused', () => {
  const conf = cniConfig({ ...base, gateway: '10.244.1.1' });
  assert.equal((conf.plugins[0].ipam as { ranges: unknown }).ranges, [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]]);
  assert.throws(() => cniConfig({ ...base, gateway: '10.244.2.1' }), /not inside the pod CIDR 10.244.1.0\/24/);
  assert.throws(() => cniConfig({ ...base, podCIDR: '10.244.1.7/24' }), /host bits set/);
});

test('an older CNI version is written as asked', () => {
  assert.is(cniConfig({ ...base, cniVersion: '0.4.0' }).cniVersion, '0.4.0');
});

test('the gateway host-local picks by default is the first host of the range', () => {
  assert.is(cniGateway('10.244.2.0/24'), '10.244.2.1');
  assert.is(cniGateway('10.244.2.0/24', '10.244.2.254'), '10.244.2.254');
});

test('writeCniConfig writes 10-svclab.conflist that readCniConfig reads back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svclab-cni-'));
  try {
    const conf = cniConfig(base);
    const file = await writeCniConfig(join(dir, 'net.d'), conf);
    assert.is(file, join(dir, 'net.d', '10-svclab.conflist'));
    assert.equal(JSON.parse(await readFile(file, 'utf8')), conf);
    assert.equal(await readCniConfig(join(dir, 'net.d')), conf);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readCniConfig takes the first file in lexical order and lifts a single-plugin .conf into a list', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svclab-cni-'));
  try {
    await writeFile(join(dir, '20-other.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'other', plugins: [] }));
    await writeFile(join(dir, '05-single.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'single', type: 'loopback' }));
    await writeFile(join(dir, 'README'), 'not a config');
    assert.equal(await readCniConfig(dir), { cniVersion: '0.4.0', name: 'single', plugins: [{ type: 'loopback' }] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readCniConfig says where the config should be when there is none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svclab-cni-'));
  try {
    let message = '';
    await readCniConfig(dir).catch((e: Error) => (message = e.message));
    assert.match(message, `no CNI network config in ${dir}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
