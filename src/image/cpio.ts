// A cpio "newc" archive writer: the format the kernel unpacks as initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Written here so
// the image build needs no cpio tool and no chroot shell pipeline.
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function record(ino: number, mode: number, data: Buffer, name: string, rdev: [number, number] = [0, 0]): Buffer {
  const nameBuf = Buffer.from(name + '\0');
  const header = '070701' + [
    ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0,
  ].map(hex).join('');
  return Buffer.concat([
    Buffer.from(header), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)), data, Buffer.alloc(pad4(data.length)),
  ]);
}

/** The archive bytes (uncompressed); paths are relative, without a leading "/". */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const ino = i + 1;
    const path = e.path.replace(/^\/+/, '');
    if (e.kind === 'dir') parts.push(record(ino, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), path));
    else if (e.kind === 'file') parts.push(record(ino, S_IFREG | (e.mode ?? 0o644), e.data, path));
    else if (e.kind === 'symlink') parts.push(record(ino, S_IFLNK | 0o777, Buffer.from(e.target), path));
    else parts.push(record(ino, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), path, [e.major, e.minor]));
  });
  parts.push(record(0, 0, Buffer.alloc(0), 'TRAILER!!!'));
  return Buffer.concat(parts);
}
