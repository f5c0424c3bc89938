import type { Command } from 'commander';
import { listLabs, readRecord } from '../../lifecycle/state.ts';
import { getDriver } from '../../cluster/drivers.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { sym } from '../output.ts';

export default function register(program: Command): void {
  program
    .command('down')
    .description('remove everything a lab made: namespaces or VMs, links, processes, mounts and files (also after a killed `up`)')
    .argument('[lab]', 'lab name or lab file (default: the only lab present)')
    .option('--all', 'remove every lab on this machine')
    .action(async (name: string | undefined, opts: { all?: boolean }) => {
      let labs: string[];
      if (opts.all) labs = await listLabs();
      else if (name) labs = [name.endsWith('.yaml') || name.endsWith('.yml') ? (await (await import('../../lab/load.ts')).loadLab(name)).name : name];
      else {
        labs = await listLabs();
        if (labs.length > 1) throw new EnvironmentError(`${labs.length} labs are present (${labs.join(', ')})`, 'say which: `svclab down NAME`, or --all');
      }
      // The netns driver can find a lab's leftovers without any record; ask it too.
      const netns = await getDriver('netns');
      for (const lab of labs) {
        const rec = await readRecord(lab);
        const driver = rec ? await getDriver(rec.driver) : netns;
        const t0 = Date.now();
        const summary = await driver.down(lab);
        console.log(`${sym.ok()} lab ${lab} removed: ${summary} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      }
      if (!labs.length) console.log('no lab to remove');
    });
}
