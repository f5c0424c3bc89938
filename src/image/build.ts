// `svclab image build`: a Debian 12 VM image from Debian's packages only, so a
// classroom without internet can run every lab once it has been built.
//
// Shape of the result (no bootloader, no partition table, no loop devices):
//   root.qcow2   ext4 made with `mkfs.ext4 -d TREE` over the whole disk
//   vmlinuz, initrd.img   Debian's kernel, booted directly (qemu -kernel / libvirt <os><kernel>)
//   manifest.json         key, mirror, package versions, sizes, phase times
// Building the file system from a directory tree needs no loop device or
// partition scanning, which containers and CI machines often lack.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { run } from '../util/exec.ts';
import { EnvironmentError } from '../util/errors.ts';
import { configuredMirror } from './mirror.ts';
import { buildInitramfs } from './initramfs.ts';
import { AGENT_SOURCE } from './agent-source.ts';
import { INIT_SOURCE, INIT_PATH, AGENT_PATH } from './guest-init.ts';
import { IMAGE_MARIADB_TEMPLATE, mariadbInstallArgv } from './mariadb.ts';
import {
  SUITE, IMAGE_PACKAGES, TRIM_PATHS, TRIM_MODULE_DIRS, INITRAMFS_MODULES, DEFAULT_IMAGE_CACHE, imageKey, imageFiles,
  type ImageFiles,
} from './recipe.ts';

export interface ImageManifest {
  key: string;
  suite: string;
  mirror: string;
  kernelVersion: string;
  packages: Record<string, string>;
  rootBytes: number;
  fsBytes: number;
  imageBytes: number;
  seconds: Record<string, number>;
  builtAt: string;
}

export interface BuildOptions {
  /** Cache root; the image goes to OUT/<key>/. Default /var/cache/svclab/images. */
  out?: string;
  /** Rebuild even if a complete image with this key exists. */
  force?: boolean;
  /** Debian mirror URL; default: the one apt is configured with here. */
  mirror?: string;
  progress?: (phase: string, detail?: string) => void;
}

export interface BuiltImage extends ImageFiles {
  manifest: string;
  info: ImageManifest;
  /** True when an existing cached image was reused. */
  cached: boolean;
}

/** Returns the cached image for the current recipe, if complete. */
export function findCachedImage(out = DEFAULT_IMAGE_CACHE): BuiltImage | undefined {
  const files = imageFiles(join(out, imageKey()));
  if (![files.root, files.kernel, files.initrd, files.manifest].every((f) => existsSync(f))) return undefined;
  return { ...files, info: JSON.parse(readFileSync(files.manifest, 'utf8')), cached: true };
}

async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw new EnvironmentError('svclab image build must run as root (debootstrap, chroot)');
  for (const tool of ['debootstrap', 'mkfs.ext4', 'qemu-img', 'chroot']) {
    const r = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (r.code !== 0) {
      throw new EnvironmentError(`${tool} is not installed`, 'run scripts/setup-vm-host.sh (apt-get install debootstrap e2fsprogs qemu-utils)');
    }
  }
}

/** Builds (or reuses) the base image. */
export async function buildImage(opts: BuildOptions = {}): Promise<BuiltImage> {
  const out = opts.out ?? DEFAULT_IMAGE_CACHE;
  const say = opts.progress ?? (() => {});
  if (!opts.force) {
    const hit = findCachedImage(out);
    if (hit) {
      say('image', `reusing ${hit.dir}`);
      return hit;
    }
  }
  await preflight();
  const mirror = opts.mirror ?? configuredMirror(SUITE);
  const key = imageKey();
  const work = join(out, `.build-${key}`);
  const root = join(work, 'root');
  const lock = join(work, 'pid');
  // Downloaded .debs are kept: a rebuild after a recipe change (or in a
  // classroom that lost its mirror after the first build) fetches only what is new.
  const debs = join(out, 'debs');
  mkdirSync(debs, { recursive: true });
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new EnvironmentError(`another image build (pid ${pid}) is working in ${work}`, 'wait for it, or kill it and retry');
    }
  }
  await removeTree(work);
  mkdirSync(work, { recursive: true });
  writeFileSync(lock, String(process.pid));

  const seconds: Record<string, number> = {};
  const timed = async <T>(phase: string, detail: string, fn: () => Promise<T>): Promise<T> => {
    say(phase, detail);
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      seconds[phase] = Math.round((performance.now() - t0) / 100) / 10;
    }
  };

  try {
    await timed('debootstrap', `Debian ${SUITE} minbase from ${mirror}`, () =>
      run(['debootstrap', '--variant=minbase', '--components=main', `--cache-dir=${debs}`, SUITE, root, mirror], { where: 'image build', timeoutMs: 30 * 60_000 }));

    prepareRoot(root, mirror);
    await timed('packages', IMAGE_PACKAGES.join(' '), () => withChrootMounts(root, debs, async () => {
      const env = { DEBIAN_FRONTEND: 'noninteractive', LANG: 'C', LC_ALL: 'C' };
      await run(['chroot', root, 'apt-get', 'update', '-qq'], { env, where: 'image chroot', timeoutMs: 10 * 60_000 });
      await run(['chroot', root, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends',
        '-o', 'Dpkg::Options::=--force-confold', '-o', 'Dpkg::Options::=--force-confdef', ...IMAGE_PACKAGES],
      { env, where: 'image chroot', timeoutMs: 30 * 60_000 });
      // The MariaDB pods' datadir template, made here at native speed instead of in each VM.
      mkdirSync(join(root, IMAGE_MARIADB_TEMPLATE.slice(1)), { recursive: true });
      await run(['chroot', root, ...mariadbInstallArgv(IMAGE_MARIADB_TEMPLATE)], { env, where: 'image chroot', timeoutMs: 10 * 60_000 });
    }));

    const packages = await listPackages(root);
    const kernelVersion = onlyEntry(join(root, 'lib/modules'), 'kernel module tree');
    const files = imageFiles(work);
    await timed('configure', 'init, agent, trim', async () => {
      await installGuestFiles(root);
      copyFileSync(join(root, 'boot', `vmlinuz-${kernelVersion}`), files.kernel);
      writeFileSync(files.initrd, await buildInitramfs(root, kernelVersion, INITRAMFS_MODULES));
      for (const p of TRIM_PATHS) rmSync(join(root, p), { recursive: true, force: true });
      mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
      mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
      for (const d of TRIM_MODULE_DIRS) rmSync(join(root, 'lib/modules', kernelVersion, d), { recursive: true, force: true });
      await run(['chroot', root, 'depmod', '-a', kernelVersion], { where: 'image chroot' });
    });

    const rootBytes = await duBytes(root);
    // Room for what labs write (MariaDB data, logs, the bundle); the file is
    // sparse and qcow2 stores only used blocks, so headroom costs no disk.
    const fsBytes = roundUp(rootBytes * 1.25 + 1024 ** 3, 64 * 1024 ** 2);
    const raw = join(work, 'root.raw');
    await timed('filesystem', `ext4 ${(fsBytes / 1024 ** 2).toFixed(0)} MiB from the tree, then compressed qcow2`, async () => {
      await run(['mkfs.ext4', '-q', '-F', '-L', 'svclab-root', '-d', root, raw, `${Math.round(fsBytes / 1024)}k`], { where: 'image build' });
      // Compressed clusters: ~190 MiB instead of ~580 for a classroom to keep or
      // copy; qemu inflates what a VM reads with host zlib, not emulated code.
      await run(['qemu-img', 'convert', '-c', '-O', 'qcow2', raw, files.root], { where: 'image build' });
      rmSync(raw, { force: true });
    });
    await removeTree(root);

    const info: ImageManifest = {
      key, suite: SUITE, mirror, kernelVersion, packages, rootBytes, fsBytes,
      imageBytes: statSync(files.root).size, seconds, builtAt: new Date().toISOString(),
    };
    writeFileSync(files.manifest, JSON.stringify(info, null, 2) + '\n');
    rmSync(lock, { force: true });
    const final = join(out, key);
    await removeTree(final);
    renameSync(work, final);
    say('image', `${final} (${(info.imageBytes / 1024 ** 2).toFixed(0)} MiB)`);
    pruneOtherImages(out, key, say);
    return { ...imageFiles(final), info, cached: false };
  } catch (err) {
    await removeTree(work).catch(() => {});
    throw err;
  }
}

/**
 * Images of earlier recipes are ~600 MiB each and nothing in svclab boots them
 * again (a stack naming an image file points outside the cache), so they go.
 */
function pruneOtherImages(out: string, key: string, say: (p: string, d?: string) => void): void {
  for (const d of readdirSync(out)) {
    if (d !== key && new RegExp(`^${SUITE}-[0-9a-f]{12}$`).test(d)) {
      rmSync(join(out, d), { recursive: true, force: true });
      say('image', `removed the image of an earlier recipe: ${d}`);
    }
  }
}

/** Files written before packages install: mirror, no services starting, no docs, initramfs modules. */
function prepareRoot(root: string, mirror: string): void {
  writeFileSync(join(root, 'etc/apt/sources.list'), `deb ${mirror} ${SUITE} main\n`);
  // invoke-rc.d asks policy-rc.d; 101 = "action forbidden": no postinst starts
  // nginx or MariaDB, in the chroot or later in a VM.
  writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
  chmodSync(join(root, 'usr/sbin/policy-rc.d'), 0o755);
  mkdirSync(join(root, 'etc/dpkg/dpkg.cfg.d'), { recursive: true });
  writeFileSync(join(root, 'etc/dpkg/dpkg.cfg.d/svclab-nodoc'),
    ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*']
      .map((p) => `path-exclude=${p}\n`).join(''));
  mkdirSync(join(root, 'etc/initramfs-tools/conf.d'), { recursive: true });
  // Debian's initrd is not booted (initramfs.ts builds ours) but the kernel's
  // postinst makes one: keep that quick.
  writeFileSync(join(root, 'etc/initramfs-tools/conf.d/svclab'), 'MODULES=list\n');
  writeFileSync(join(root, 'etc/initramfs-tools/modules'), INITRAMFS_MODULES.join('\n') + '\n');
}

async function installGuestFiles(root: string): Promise<void> {
  const init = join(root, INIT_PATH.slice(1));
  writeFileSync(init, INIT_SOURCE);
  chmodSync(init, 0o755);
  const agent = join(root, AGENT_PATH.slice(1));
  mkdirSync(dirname(agent), { recursive: true });
  writeFileSync(agent, AGENT_SOURCE);
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  writeFileSync(join(root, 'etc/fstab'), '# root is mounted by the kernel (root=/dev/vda); see svclab-init\n');
  // An empty root password: the serial console logs in automatically anyway,
  // and the VMs have no route to anything but the lab's own isolated bridge.
  await run(['chroot', root, 'passwd', '-d', 'root'], { where: 'image chroot' });
}

async function withChrootMounts<T>(root: string, debs: string, fn: () => Promise<T>): Promise<T> {
  const mounts: string[] = [];
  const mount = async (argv: string[], target: string) => {
    mkdirSync(target, { recursive: true });
    await run(['mount', ...argv, target], { where: 'image build' });
    mounts.push(target);
  };
  try {
    await mount(['-t', 'proc', 'proc'], join(root, 'proc'));
    await mount(['-t', 'sysfs', 'sysfs'], join(root, 'sys'));
    await mount(['--bind', '/dev'], join(root, 'dev'));
    await mount(['-t', 'devpts', 'devpts'], join(root, 'dev/pts'));
    await mount(['--bind', debs], join(root, 'var/cache/apt/archives'));
    return await fn();
  } finally {
    for (const m of mounts.reverse()) await run(['umount', '-l', m], { allowFailure: true });
  }
}

/** Removes a build tree, refusing if anything is still mounted below it. */
async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const mounted = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => l.split(' ')[1]).filter((m) => m && (m === dir || m.startsWith(dir + '/')));
  for (const m of mounted.sort().reverse()) await run(['umount', '-l', m], { allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}

async function listPackages(root: string): Promise<Record<string, string>> {
  const r = await run(['chroot', root, 'dpkg-query', '-W', '-f', '${Package} ${Version}\n'], { where: 'image chroot' });
  const want = new Set(IMAGE_PACKAGES);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')).filter(([p]) => want.has(p)));
}

async function duBytes(dir: string): Promise<number> {
  const r = await run(['du', '-sb', '--one-file-system', dir]);
  return Number(r.stdout.split(/\s/)[0]);
}

function onlyEntry(dir: string, what: string): string {
  const entries = readdirSync(dir);
  if (entries.length !== 1) throw new EnvironmentError(`expected one ${what} in ${dir}, found: ${entries.join(', ') || 'none'}`);
  return entries[0];
}

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
