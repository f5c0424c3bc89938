import type { Command } from 'commander';
import { sym } from '../../util/output.ts';

export default function register(program: Command): void {
  const image = program.command('image').description('the VM base image of the libvirt driver (Debian 12, offline once built)');
  image
    .command('build')
    .description('debootstrap Debian 12 from the configured apt mirror into a cached VM image (~2–5 min; reused when present)')
    .option('--out <dir>', 'cache directory (the image goes to DIR/<key>/)', '/var/cache/svclab/images')
    .option('--force', 'build again even if the image for this svclab version is cached')
    .option('--mirror <url>', 'Debian mirror (default: the one apt uses on this machine)')
    .action(async (opts: { out: string; force?: boolean; mirror?: string }) => {
      const { buildImage } = await import('../../image/build.ts');
      const t0 = Date.now();
      const img = await buildImage({
        out: opts.out, force: opts.force, mirror: opts.mirror,
        progress: (phase, detail) => console.log(`  ${phase}${detail ? `: ${detail}` : ''}`),
      });
      const mib = (img.info.imageBytes / 2 ** 20).toFixed(0);
      const how = img.cached ? 'reused' : `built in ${((Date.now() - t0) / 1000).toFixed(0)}s (${Object.entries(img.info.seconds).map(([k, v]) => `${k} ${v}s`).join(', ')})`;
      console.log(`${sym.ok()} image ${img.info.key} ${how}: ${img.root} (${mib} MiB), kernel ${img.info.kernelVersion}`);
    });
}
