// Which base image a VM boots: a named image file with its kernel beside it
// (what `svclab image build --out DIR` writes), or the cached build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBaseImage } from '../../../src/cluster/libvirt/volume.ts';
import { EnvironmentError } from '../../../src/util/errors.ts';

function errorOf(fn: () => unknown): EnvironmentError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EnvironmentError);
    return err as EnvironmentError;
  }
  throw new Error('expected an EnvironmentError');
}

test('a named image with vmlinuz and initrd.img beside it boots; qcow2 is told from raw by its magic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-img-'));
  try {
    writeFileSync(join(dir, 'root.qcow2'), Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(60)]));
    writeFileSync(join(dir, 'root.img'), Buffer.alloc(64));
    writeFileSync(join(dir, 'vmlinuz'), 'k');
    writeFileSync(join(dir, 'initrd.img'), 'i');
    assert.equal(resolveBaseImage(join(dir, 'root.qcow2'), join(dir, 'cache')), {
      root: join(dir, 'root.qcow2'), format: 'qcow2', kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'),
    });
    assert.is(resolveBaseImage(join(dir, 'root.img'), join(dir, 'cache')).format, 'raw');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cloud image without a kernel beside it is refused, and the hint says how to get an image that works offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-img-'));
  try {
    const cloud = join(dir, 'debian-12-genericcloud-amd64.qcow2');
    writeFileSync(cloud, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(60)]));
    const err = errorOf(() => resolveBaseImage(cloud, join(dir, 'cache')));
    assert.match(err.message, `image ${cloud}: expected vmlinuz and initrd.img beside it`);
    assert.match(err.hint ?? '', 'svclab image build --out DIR');
    assert.match(err.hint ?? '', 'cloud image');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing image file, or no cached build, is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-img-'));
  try {
    assert.match(errorOf(() => resolveBaseImage(join(dir, 'nope.qcow2'), dir)).message, 'does not exist');
    const none = errorOf(() => resolveBaseImage(undefined, join(dir, 'empty-cache')));
    assert.match(none.message, 'no VM base image');
    assert.match(none.hint ?? '', 'svclab image build');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
