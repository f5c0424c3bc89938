// KVM or TCG. /dev/kvm existing is not enough: on some nested hosts qemu opens
// it and then aborts or hangs. The probe boots a 64 KiB "BIOS" whose reset
// vector writes to qemu's isa-debug-exit port: qemu exits with (v<<1)|1 only if
// the accelerator really executed guest code. Overridable with SVCLAB_ACCEL.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../util/exec.ts';

export type Accel = 'kvm' | 'tcg';

/** mov al,0x2a; out 0xf4,al; hlt — placed at the reset vector (16 bytes before the end). */
function probeBios(): Buffer {
  const bios = Buffer.alloc(65536, 0xf4);
  Buffer.from([0xb0, 0x2a, 0xe6, 0xf4, 0xf4]).copy(bios, bios.length - 16);
  return bios;
}

let cached: Accel | undefined;

export async function detectAccel(qemu = 'qemu-system-x86_64'): Promise<Accel> {
  const forced = process.env.SVCLAB_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  if (cached) return cached;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return (cached = 'tcg');
  }
  // A /dev/kvm without vmx/svm in the CPU flags is a nested setup that passes
  // the probe below but hangs booting a real kernel (seen on this project's CI).
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'))) return (cached = 'tcg');
  const dir = mkdtempSync(join(tmpdir(), 'svclab-kvm-'));
  try {
    writeFileSync(join(dir, 'bios.bin'), probeBios());
    const r = await run([qemu, '-accel', 'kvm', '-machine', 'pc', '-nodefaults', '-display', 'none', '-no-user-config',
      '-bios', join(dir, 'bios.bin'), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x01'], { allowFailure: true, timeoutMs: 10_000 });
    cached = r.code === ((0x2a << 1) | 1) ? 'kvm' : 'tcg';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached;
}
