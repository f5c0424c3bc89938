// `svclab create service clusterip|nodeport|loadbalancer|externalname NAME
// --tcp=P:T`, `create deployment NAME --image IMG`, `create -f FILE`: kubectl
// create's generators (selector app=NAME, port named "P-T") and its output.
import type { Command } from 'commander';
import type { KubeObject } from '../../k8s/objects.ts';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import { labOptions, namespaced, namespaceExplicit, readManifests, withClient } from '../kubectl/args.ts';
import { dryRunQuery, dryRunSuffix, kubectlAction, kubectlErrorLine, parseDryRun, statusMessage, type DryRun } from '../kubectl/errors.ts';
import { createDeployment, createService, KubectlError, wireObject, type CreateServiceType } from '../kubectl/generators.ts';
import { parseOutput, printResult } from '../kubectl/print.ts';
import { namespaceFor } from '../kubectl/apply.ts';

interface Common {
  lab?: string;
  namespace: string;
  dryRun?: string | boolean;
  output?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * Prints (client dry run) or creates `obj` and prints what the server made.
 * kubectl wraps the generator verbs' failures ("failed to create ClusterIP
 * service: ...") and prints them as plain errors.
 */
async function createOne(obj: KubeObject, o: Common, cmd: Command, failure: string): Promise<void> {
  const dryRun: DryRun = parseDryRun(o.dryRun);
  const output = parseOutput(o.output);
  if (namespaceExplicit(cmd) && namespaced(obj.kind as never)) obj.metadata = { ...obj.metadata, namespace: o.namespace };
  if (dryRun === 'client') {
    process.stdout.write(printResult(obj, 'created', output, dryRunSuffix(dryRun)));
    return;
  }
  await withClient(o.lab, async (client) => {
    let created: KubeObject;
    try {
      created = await client.create<KubeObject>(`${resourcePath(obj.kind as never, o.namespace)}${dryRunQuery(dryRun)}`, wireObject(obj));
    } catch (err) {
      throw new KubectlError(`${failure}: ${statusMessage(err)}`);
    }
    process.stdout.write(printResult({ ...created, apiVersion: obj.apiVersion, kind: obj.kind } as KubeObject, 'created', output, dryRunSuffix(dryRun)));
  });
}

function serviceCommand(parent: Command, sub: string, type: CreateServiceType): void {
  const what = type === 'ExternalName' ? 'an ExternalName Service (a DNS alias)' : `a ${type} Service (selector app=NAME, ports named "PORT-TARGET")`;
  const cmd = parent.command(sub).description(`create ${what}`).argument('<name>');
  cmd.option('--tcp <port:targetPort>', "port pairs as '<port>:<targetPort>' (repeatable, or comma-separated)", collect, []);
  if (type === 'ClusterIP') cmd.option('--clusterip <ip>', "assign your own ClusterIP, or 'None' for a headless Service");
  if (type === 'NodePort') cmd.option('--node-port <port>', 'the port on every node');
  if (type === 'ExternalName') cmd.requiredOption('--external-name <name>', 'the DNS name the Service points to');
  cmd
    .action((name: string, _o: unknown, c: Command) =>
      kubectlAction(async () => {
        const o = c.optsWithGlobals<Common & { tcp: string[]; clusterip?: string; nodePort?: string; externalName?: string }>();
        const nodePort = o.nodePort === undefined ? undefined : Number(o.nodePort);
        if (nodePort !== undefined && !Number.isInteger(nodePort)) throw new KubectlError(`invalid argument "${o.nodePort}" for "--node-port" flag: strconv.ParseInt: parsing "${o.nodePort}": invalid syntax`);
        const svc = createService(type, name, { tcp: o.tcp, clusterIP: o.clusterip, nodePort, externalName: o.externalName });
        await createOne(svc, o, c, `failed to create ${type} service`);
      }),
    );
}

export default function register(program: Command): void {
  const create = labOptions(
    program
      .command('create')
      .description('create objects: from a file (-f), or a Service / Deployment the way kubectl create builds them')
      .option('-f, --filename <file...>', 'create the objects in these manifest files')
      .configureHelp({ showGlobalOptions: true }),
  )
    // Shared with the subcommands (they read them with optsWithGlobals): commander
    // hands a parent the options it knows wherever they appear on the line.
    .option('--dry-run [strategy]', 'none, client (print, create nothing) or server')
    .option('-o, --output <format>', 'yaml, json or name')
    .addHelpText('after', '\nExamples:\n  svclab create deployment nginx --image nginx\n  svclab create service clusterip nginx --tcp=8080:80\n  svclab create service nodeport web --tcp=80:8080 --node-port=30080\n  svclab create -f objects.yaml')
    .action((o: Common & { filename?: string[] }, cmd: Command) =>
      kubectlAction(async () => {
        if (!o.filename?.length) throw new KubectlError('must specify one of -f and -k, or a subcommand (deployment, service)');
        const dryRun = parseDryRun(o.dryRun);
        const output = parseOutput(o.output);
        const errors: string[] = [];
        const manifests = await readManifests(o.filename);
        const run = async (client?: { create<T>(p: string, b: unknown): Promise<T> }) => {
          for (const { object, file } of manifests) {
            try {
              const ns = namespaceFor(object, o.namespace, namespaceExplicit(cmd));
              const obj = ns ? { ...object, metadata: { ...object.metadata, namespace: ns } } : object;
              if (client) await client.create(`${resourcePath(obj.kind as never, ns)}${dryRunQuery(dryRun)}`, obj);
              process.stdout.write(printResult(obj, 'created', output, dryRunSuffix(dryRun)));
            } catch (err) {
              const line = kubectlErrorLine(err, { verb: 'creating', file });
              if (line === undefined) throw err;
              errors.push(line);
            }
          }
        };
        if (dryRun === 'client') await run();
        else await withClient(o.lab, (client) => run(client));
        if (errors.length) {
          process.stderr.write(`${errors.join('\n')}\n`);
          process.exitCode = 1;
        }
      }),
    );

  const service = create.command('service').alias('svc').description('create a Service: clusterip, nodeport, loadbalancer or externalname');
  serviceCommand(service, 'clusterip', 'ClusterIP');
  serviceCommand(service, 'nodeport', 'NodePort');
  serviceCommand(service, 'loadbalancer', 'LoadBalancer');
  serviceCommand(service, 'externalname', 'ExternalName');

  create
    .command('deployment')
    .alias('deploy')
    .description('create a Deployment with labels and selector app=NAME; arguments after -- become the container command')
    .argument('<name>')
    .argument('[command...]', 'the container command (after --)')
    .option('--image <image>', 'image to run (repeatable: one container each)', collect, [])
    .option('-r, --replicas <n>', 'number of replicas', '1')
    .option('--port <port>', 'the containerPort of the first container')
    .action((name: string, command: string[], _o: unknown, c: Command) =>
      kubectlAction(async () => {
        const o = c.optsWithGlobals<Common & { image: string[]; replicas: string; port?: string }>();
        const replicas = Number(o.replicas);
        if (!Number.isInteger(replicas)) throw new KubectlError(`invalid argument "${o.replicas}" for "-r, --replicas" flag: strconv.ParseInt: parsing "${o.replicas}": invalid syntax`);
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && !Number.isInteger(port)) throw new KubectlError(`invalid argument "${o.port}" for "--port" flag: strconv.ParseInt: parsing "${o.port}": invalid syntax`);
        const d = createDeployment(name, { images: o.image, replicas, port, command });
        await createOne(d, o, c, 'failed to create deployment');
      }),
    );
}
