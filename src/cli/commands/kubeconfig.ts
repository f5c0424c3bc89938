import type { Command } from 'commander';
import { readRecord } from '../../lifecycle/state.ts';
import { labCredentials } from '../../lifecycle/reach.ts';
import { labKubeconfigText } from '../../lifecycle/kubeconfig.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { checkLabel } from '../../cluster/common/names.ts';

export default function register(program: Command): void {
  program
    .command('kubeconfig')
    .description("print a lab's kubeconfig (context svclab-<lab>: https://127.0.0.1:<port>, the lab CA, the admin client certificate)")
    .argument('<lab>', 'lab name')
    .addHelpText('after', '\nExample: svclab kubeconfig clusterip-db > lab.conf && kubectl --kubeconfig lab.conf get pods -A')
    .action(async (lab: string) => {
      const rec = await readRecord(checkLabel('lab', lab));
      if (!rec) throw new EnvironmentError(`lab ${lab} is not up`, `svclab up labs/${lab}.yaml`);
      process.stdout.write(labKubeconfigText(await labCredentials(rec)));
    });
}
