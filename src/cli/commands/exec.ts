import type { Command } from 'commander';
import { selectLab } from '../lab-select.ts';
import { podExecArgv } from '../../workloads/pod-paths.ts';
import { EnvironmentError } from '../../util/errors.ts';

export default function register(program: Command): void {
  program
    .command('exec')
    .description('run a command in a node, a pod or the external client of a lab, like `kubectl exec` / `docker exec`')
    .argument('<target>', 'node name (node-01), "external", or pod name (or label selector app=db)')
    .argument('<command...>', 'the command, after --')
    .option('--lab <lab>', 'which lab (default: the only one up)')
    .option('-n, --namespace <ns>', 'namespace of the pod', 'default')
    .addHelpText('after', '\nExamples:\n  svclab exec node-01 -- iptables -t nat -L KUBE-SERVICES -n\n  svclab exec app=client -- mariadb -h db-service -uroot -plab -e "select @@hostname"\n  svclab exec external -- curl -s http://192.168.49.3:30007/')
    .action(async (target: string, command: string[], opts: { lab?: string; namespace: string }) => {
      const lab = await selectLab(opts.lab);
      let argv = command;
      let node = lab.nodes.get(target) ?? (target === 'external' ? lab.external : undefined);
      if (!node) {
        const pods = (await lab.api.findPods(target, opts.namespace)).filter((p) => p.pid);
        if (!pods.length) throw new EnvironmentError(`no node, and no running pod, named "${target}" in lab ${lab.record.name}`, `nodes: ${[...lab.nodes.keys()].join(', ')}, external; pods: svclab get pods`);
        node = lab.nodes.get(pods[0].nodeName);
        if (!node) throw new EnvironmentError(`pod ${pods[0].name} is on unknown node ${pods[0].nodeName}`);
        argv = podExecArgv(pods[0].pid!, command);
      }
      // Output streams through as the command produces it would be nicer; exec returns when done.
      const r = await node.exec(argv, { allowFailure: true, where: target });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
