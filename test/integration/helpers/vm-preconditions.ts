// What a VM test needs on this host, as a reason to skip (said loudly by the
// caller) or undefined when it can run.
import { existsSync } from 'node:fs';
import { run } from '../../../src/util/exec.ts';
import { findCachedImage } from '../../../src/image/build.ts';

async function has(tool: string): Promise<boolean> {
  return (await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true })).code === 0;
}

export async function whyNoVms(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!(await has('qemu-system-x86_64')) || !(await has('qemu-img'))) return 'qemu is not installed (scripts/setup-vm-host.sh)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (!findCachedImage() && !(await has('debootstrap'))) return 'no cached VM image and no debootstrap to build one';
  return undefined;
}
