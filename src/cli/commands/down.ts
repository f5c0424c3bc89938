import type { Command } from 'commander';
import { listLabs, readRecord } from '../../lifecycle/state.ts';
import { DRIVERS, getDriver } from '../../cluster/drivers.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { sym } from '../../util/output.ts';
import { closeReach } from '../../lifecycle/reach.ts';

export default function register(program: Command): void {
  program
    .command('down')
    .description('remove everything a lab made: namespaces or VMs, links, processes, mounts and files (also after a killed `up`)')
    .argument('[lab]', 'lab name or lab file (default: the only lab present)')
    .option('--all', 'remove every lab on this machine')
    .option('--keep-nodes', "stop the lab's daemons and pods but keep its VMs (the Pulumi stack removes them as resources)")
    .action(async (name: string | undefined, opts: { all?: boolean; keepNodes?: boolean }) => {
      let labs: string[];
      if (opts.all) labs = await listLabs();
      else if (name) labs = [name.endsWith('.yaml') || name.endsWith('.yml') ? (await (await import('../../lab/load.ts')).loadLab(name)).name : name];
      else {
        labs = await listLabs();
        if (labs.length > 1) throw new EnvironmentError(`${labs.length} labs are present (${labs.join(', ')})`, 'say which: `svclab down NAME`, or --all');
      }
      if (opts.keepNodes) {
        const { selectLab } = await import('../lab-select.ts');
        const { downKeepNodes } = await import('../../lifecycle/keep-nodes.ts');
        for (const lab of labs) {
          // Nothing recorded: the lab was never started on the nodes, or already stopped.
          if (!(await readRecord(lab))) {
            console.log(`lab ${lab} is not running on its nodes`);
            continue;
          }
          const running = await selectLab(lab);
          const reach = await closeReach(lab, running.record);
          console.log(`${sym.ok()} lab ${lab}: ${[...reach, await downKeepNodes(running)].join('; ')}`);
        }
        return;
      }
      for (const lab of labs) {
        const t0 = Date.now();
        const summary = (await downLab(lab)).join('; ');
        console.log(`${sym.ok()} lab ${lab} removed: ${summary} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      }
      if (!labs.length) console.log('no lab to remove');
    });
}

/**
 * Removes a lab with the driver its record names; without a record (a killed
 * `up`, a lost state dir) every driver that finds leftovers of it removes
 * them, and a driver that finds leftovers by name alone always sweeps.
 */
export async function downLab(lab: string): Promise<string[]> {
  const rec = await readRecord(lab);
  // The loopback forwarder runs in the host's namespace, so no namespace sweep ends it; it and the kubeconfig entries go first.
  const reach = await closeReach(lab, rec);
  if (rec) return [...reach, await (await getDriver(rec.driver)).down(lab)];
  const summaries: string[] = [];
  const drivers = (await Promise.all(DRIVERS.map((name) => getDriver(name).catch(() => undefined)))).filter((d) => d !== undefined);
  // Sweepers last: a sweep by name kills what runs in the lab's namespaces (qemu
  // too), which would leave another driver's domains and disks without their processes.
  const ordered = [...drivers.filter((d) => !d.capabilities.sweepsByName), ...drivers.filter((d) => d.capabilities.sweepsByName)];
  for (const driver of ordered) {
    if (driver.capabilities.sweepsByName || (await driver.exists(lab))) summaries.push(`${driver.name}: ${await driver.down(lab)}`);
  }
  return [...reach, ...summaries];
}
