// Per-VM disks: a qcow2 overlay on the shared, read-only base image, so three
// VMs cost a few MiB each and the base stays pristine for the next lab.
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../../util/exec.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { findCachedImage } from '../../image/build.ts';
import { imageFiles, DEFAULT_IMAGE_CACHE } from '../../image/recipe.ts';

export interface BaseImage {
  root: string;
  /** Format of `root` as qemu-img names it. */
  format: 'qcow2' | 'raw';
  kernel: string;
  initrd: string;
}

/**
 * The base image to boot: a named image file (vmlinuz and initrd.img beside
 * it, as `svclab image build --out` leaves them), or the cached build of the
 * current recipe.
 */
export function resolveBaseImage(image?: string, cache = DEFAULT_IMAGE_CACHE): BaseImage {
  if (image) {
    if (!existsSync(image)) throw new EnvironmentError(`image ${image} does not exist`);
    const dir = dirname(image);
    const kernel = join(dir, 'vmlinuz');
    const initrd = join(dir, 'initrd.img');
    if (!existsSync(kernel) || !existsSync(initrd)) {
      // A stock cloud image boots through its own bootloader and lacks the lab's packages and our
      // agent; installing them at boot would need the internet, which a classroom may not have.
      throw new EnvironmentError(`image ${image}: expected vmlinuz and initrd.img beside it`,
        'svclab boots the Debian kernel directly with its own initramfs and agent, so a named image must be one ' +
        '`svclab image build --out DIR` wrote (root.qcow2, vmlinuz, initrd.img: build it once where a Debian mirror ' +
        'answers, then copy the directory); a stock cloud image such as debian-12-genericcloud lacks the lab\'s packages and the agent');
    }
    return { root: image, format: sniffFormat(image), kernel, initrd };
  }
  const built = findCachedImage(cache);
  if (!built) {
    throw new EnvironmentError(`no VM base image in ${cache} for this svclab version`, 'run `svclab image build` (about 2–3 minutes, needs the Debian mirror once)');
  }
  const f = imageFiles(built.dir);
  return { root: f.root, format: 'qcow2', kernel: f.kernel, initrd: f.initrd };
}

/** qcow2 files start with "QFI\xfb"; anything else is taken as raw. */
export function sniffFormat(file: string): 'qcow2' | 'raw' {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.toString('latin1') === 'QFI\xfb' ? 'qcow2' : 'raw';
  } finally {
    closeSync(fd);
  }
}

/** Creates the overlay (qemu-img create -b BASE -F FMT); replaces a leftover one. */
export async function createOverlay(disk: string, base: BaseImage): Promise<void> {
  mkdirSync(dirname(disk), { recursive: true });
  rmSync(disk, { force: true });
  await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base.root, '-F', base.format, disk], { where: 'host' });
}

export function deleteOverlay(disk: string): void {
  rmSync(disk, { force: true });
}
