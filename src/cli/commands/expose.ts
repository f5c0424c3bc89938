// `svclab expose deployment NAME --port P ...`: kubectl expose — the Service
// takes the deployment's selector and labels, targetPort defaults to port.
import type { Command } from 'commander';
import type { KubeObject, Service } from '../../k8s/objects.ts';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import { labOptions, namespaceExplicit, parseResourceArgs, withClient } from '../kubectl/args.ts';
import { dryRunQuery, dryRunSuffix, kubectlAction, parseDryRun } from '../kubectl/errors.ts';
import { exposeService, KubectlError, wireObject, type ExposeOptions } from '../kubectl/generators.ts';
import { parseOutput, printResult } from '../kubectl/print.ts';

interface Opts extends Omit<ExposeOptions, 'nodePort'> {
  lab?: string;
  namespace: string;
  nodePort?: string;
  dryRun?: string | boolean;
  output?: string;
}

export default function register(program: Command): void {
  labOptions(
    program
      .command('expose')
      .description('expose a deployment, pod or service as a new Service (kubectl expose): selector and labels come from the object')
      .argument('<resource...>', 'deployment NAME, pod NAME, service NAME (or KIND/NAME)'),
  )
    .option('--port <port>', 'the port the Service serves on (default: the container port, if there is exactly one)')
    .option('--target-port <port>', 'container port number or name the Service sends to (default: the same as --port)')
    .option('--protocol <protocol>', 'TCP, UDP or SCTP (default: the container port\'s protocol, else TCP)')
    .option('--type <type>', 'ClusterIP, NodePort, LoadBalancer or ExternalName (default: ClusterIP)')
    .option('--node-port <port>', 'the NodePort to ask for (svclab addition; kubectl expose has no such flag)')
    .option('--name <name>', 'name of the Service (default: the object\'s name)')
    .option('-l, --labels <labels>', 'labels for the Service (default: the object\'s labels)')
    .option('--selector <selector>', 'equality-based selector (default: the object\'s selector)')
    .option('--external-ip <ip>', 'an external IP the Service also accepts')
    .option('--load-balancer-ip <ip>', 'for type LoadBalancer')
    .option('--session-affinity <affinity>', 'None or ClientIP')
    .option('--cluster-ip <ip>', 'ClusterIP to ask for, or None for a headless Service')
    .option('--dry-run [strategy]', 'none, client (print, create nothing) or server')
    .option('-o, --output <format>', 'yaml, json or name')
    .addHelpText('after', '\nExamples:\n  svclab expose deployment nginx --port=8080 --target-port=80 --type=ClusterIP\n  svclab expose deployment web --port 80 --type NodePort --node-port 30080\n  svclab expose deployment nginx --port 80 --dry-run=client -o yaml')
    .action((args: string[], opts: Opts, cmd: Command) =>
      kubectlAction(async () => {
        const dryRun = parseDryRun(opts.dryRun);
        const output = parseOutput(opts.output);
        const { refs } = parseResourceArgs(args);
        if (refs.length !== 1) throw new KubectlError('You must provide one resource to expose: svclab expose deployment NAME --port PORT');
        const nodePort = opts.nodePort === undefined ? undefined : Number(opts.nodePort);
        if (nodePort !== undefined && !Number.isInteger(nodePort)) throw new KubectlError(`invalid argument "${opts.nodePort}" for "--node-port" flag: strconv.ParseInt: parsing "${opts.nodePort}": invalid syntax`);
        await withClient(opts.lab, async (client) => {
          const { kind, name } = refs[0];
          const target = await client.get<KubeObject>(resourcePath(kind, opts.namespace, name));
          const svc = exposeService({ ...target, kind } as KubeObject, { ...opts, nodePort });
          if (dryRun === 'client') {
            if (namespaceExplicit(cmd)) svc.metadata!.namespace = opts.namespace;
            process.stdout.write(printResult(svc, 'exposed', output, dryRunSuffix(dryRun)));
            return;
          }
          const created = await client.create<Service>(`${resourcePath('Service', opts.namespace)}${dryRunQuery(dryRun)}`, wireObject(svc));
          process.stdout.write(printResult({ ...created, apiVersion: 'v1', kind: 'Service' }, 'exposed', output, dryRunSuffix(dryRun)));
        });
      }),
    );
}
