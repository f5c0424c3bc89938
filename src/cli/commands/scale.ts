// `svclab scale deployment NAME --replicas N`: kubectl scale through the
// deployment's scale subresource → "deployment.apps/NAME scaled".
import type { Command } from 'commander';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import { labOptions, parseResourceArgs, withClient } from '../kubectl/args.ts';
import { dryRunQuery, dryRunSuffix, kubectlAction, parseDryRun } from '../kubectl/errors.ts';
import { KubectlError } from '../kubectl/generators.ts';
import { kindGroup } from '../kubectl/print.ts';

interface Opts {
  replicas?: string;
  lab?: string;
  namespace: string;
  dryRun?: string | boolean;
  output?: string;
}

export default function register(program: Command): void {
  labOptions(
    program
      .command('scale')
      .description("set a deployment's replica count (kubectl scale)")
      .argument('<resource...>', 'deployment NAME... or deployment/NAME'),
  )
    .option('--replicas <n>', 'the new number of replicas')
    .option('--dry-run [strategy]', 'none, client or server')
    .option('-o, --output <format>', 'name: print only resource/name')
    .addHelpText('after', '\nExamples:\n  svclab scale deployment db --replicas 1\n  svclab scale deploy/web --replicas=3')
    .action((args: string[], opts: Opts) =>
      kubectlAction(async () => {
        const dryRun = parseDryRun(opts.dryRun);
        const replicas = Number(opts.replicas);
        if (opts.replicas === undefined || !/^\d+$/.test(opts.replicas) || !Number.isSafeInteger(replicas)) {
          throw new KubectlError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
        }
        const { refs } = parseResourceArgs(args);
        if (!refs.length) throw new KubectlError('resource(s) were provided, but no name was specified');
        for (const r of refs) {
          if (r.kind !== 'Deployment') throw new KubectlError(`cannot scale a ${r.kind}: in a svclab lab only deployments have replicas`);
        }
        await withClient(opts.lab, async (client) => {
          for (const r of refs) {
            const path = resourcePath('Deployment', opts.namespace, r.name);
            if (dryRun === 'client') await client.get(path);
            else await client.patch(`${path}/scale${dryRunQuery(dryRun)}`, { spec: { replicas } }, 'merge');
            process.stdout.write(opts.output === 'name' ? `${kindGroup(r.kind)}/${r.name}\n` : `${kindGroup(r.kind)}/${r.name} scaled${dryRunSuffix(dryRun)}\n`);
          }
        });
      }),
    );
}
