import type { Command } from 'commander';
import { listLabs, readRecord } from '../../lifecycle/state.ts';
import { table } from '../../util/output.ts';

export default function register(program: Command): void {
  program
    .command('status')
    .description('the labs on this machine: driver, proxy mode, phase, nodes')
    .option('-o, --output <format>', 'json')
    .action(async (opts: { output?: string }) => {
      const recs = [];
      for (const l of await listLabs()) {
        const r = await readRecord(l);
        recs.push(r ?? { name: l, phase: 'broken (no lab.json: run `svclab down ' + l + '`)' });
      }
      if (opts.output === 'json') {
        console.log(JSON.stringify(recs, null, 2));
        return;
      }
      if (!recs.length) {
        console.log('No labs. Bring one up: svclab up labs/clusterip-db.yaml');
        return;
      }
      const age = (iso?: string) => {
        if (!iso) return '';
        const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
        return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
      };
      console.log(table(
        ['LAB', 'PHASE', 'DRIVER', 'MODE', 'NODES', 'AGE', 'FILE'],
        recs.map((r) => {
          const x = r as Partial<import('../../lifecycle/state.ts').LabRecord> & { name: string; phase: string };
          return [x.name, x.phase, x.driver ?? '', x.mode ?? '', x.layout ? x.layout.nodes.map((n) => n.name).join(',') : '', age(x.createdAt), x.file ?? ''];
        }),
      ));
    });
}
