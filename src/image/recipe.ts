// What goes into the base image and the key it is cached under. The key is a
// hash of everything that changes the image's bytes (suite, packages, trim
// rules, init and agent), so a classroom without internet reuses an image built
// once, and a change here builds a new one instead of silently reusing a stale
// one. The mirror URL is not part of the key: any mirror serves the same suite.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AGENT_SOURCE } from './agent-source.ts';
import { BOOT_MODULES, INIT_SOURCE } from './guest-init.ts';
import { INITRAMFS_INIT } from './initramfs.ts';

export const SUITE = 'bookworm';

/** Debian packages installed into the image (plus their Depends, no Recommends). */
export const IMAGE_PACKAGES = [
  'linux-image-amd64', // Debian's kernel: has ip_vs, nf_tables, br_netfilter, vxlan as modules
  'iptables', 'ipset', 'ipvsadm', 'nftables', 'conntrack',
  'containernetworking-plugins',
  'nginx-light', 'mariadb-server', 'mariadb-client', 'dnsmasq-base',
  'nodejs', // Debian's Node 18 runs dist/svclab.mjs and the guest agent
  'curl', 'iproute2', 'procps', 'kmod', 'iputils-ping', 'netcat-openbsd', 'tcpdump',
  'tini', // PID 1 after svclab-init: reaps orphaned daemons
  'busybox-static', // the initramfs's only program (see initramfs.ts)
];

/** Paths removed from the image root after install (globs are expanded by the builder). */
export const TRIM_PATHS = [
  'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian',
  'usr/share/bash-completion', 'var/lib/apt/lists', 'var/cache/apt', 'var/cache/debconf/templates.dat-old',
  'var/log/apt', 'var/log/dpkg.log', 'boot', 'usr/lib/udev/hwdb.bin', 'etc/udev/hwdb.bin',
];

/** Kernel module trees no lab VM needs (graphics, sound, radios, exotic buses). */
export const TRIM_MODULE_DIRS = [
  'kernel/drivers/gpu', 'kernel/drivers/media', 'kernel/drivers/net/wireless', 'kernel/drivers/infiniband',
  'kernel/drivers/staging', 'kernel/drivers/bluetooth', 'kernel/drivers/isdn', 'kernel/drivers/iio',
  'kernel/drivers/net/ethernet', 'kernel/drivers/usb', 'kernel/drivers/hid', 'kernel/drivers/input',
  'kernel/drivers/scsi', 'kernel/drivers/mtd', 'kernel/drivers/hwmon', 'kernel/drivers/platform',
  'kernel/sound', 'kernel/net/wireless', 'kernel/net/mac80211', 'kernel/net/bluetooth', 'kernel/fs/ocfs2',
  'kernel/fs/xfs', 'kernel/fs/btrfs', 'kernel/fs/nfs', 'kernel/fs/cifs', 'kernel/fs/smb', 'kernel/fs/ceph',
];

/**
 * Modules the initramfs loads: the virtio disk, NIC and agent port and ext4
 * (nothing runs udev to load them later), then what the proxy modes and CNI
 * plugins need (BOOT_MODULES).
 */
export const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_console', 'crc32c_generic', 'ext4', ...BOOT_MODULES];

/** Bump when the build steps change in a way the lists above don't show. */
const BUILDER_VERSION = 4; // 4: MariaDB datadir template baked in

export function imageKey(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({
    v: BUILDER_VERSION, suite: SUITE, packages: [...IMAGE_PACKAGES].sort(), trim: TRIM_PATHS,
    modules: TRIM_MODULE_DIRS, initramfsModules: INITRAMFS_MODULES, init: INIT_SOURCE, initramfs: INITRAMFS_INIT, agent: AGENT_SOURCE,
  }));
  return `${SUITE}-${h.digest('hex').slice(0, 12)}`;
}

export const DEFAULT_IMAGE_CACHE = '/var/cache/svclab/images';

/** The files of one built image. */
export interface ImageFiles {
  dir: string;
  /** qcow2 root file system (ext4 on the whole disk, no partition table). */
  root: string;
  kernel: string;
  initrd: string;
  manifest: string;
}

export function imageFiles(dir: string): ImageFiles {
  return {
    dir,
    root: join(dir, 'root.qcow2'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    manifest: join(dir, 'manifest.json'),
  };
}
