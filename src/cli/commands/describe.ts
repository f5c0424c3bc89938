// `svclab describe svc|pod|deployment|node [NAME]`: kubectl describe's layout.
// As kubectl does, a NAME that matches no object exactly describes every
// object whose name starts with it; no NAME describes them all.
import type { Command } from 'commander';
import type { Deployment, EndpointSlice, K8sNode, KubeObject, Pod, ResourceKind, Service } from '../../k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../../k8s/labels.ts';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import type { ApiClient } from '../../controlplane/client.ts';
import { labOptions, namespaced, parseResourceArgs, withClient } from '../kubectl/args.ts';
import { apiStatus, kubectlAction } from '../kubectl/errors.ts';
import { KubectlError } from '../kubectl/generators.ts';
import { describeDeployment, describeNode, describePod, describeService } from '../kubectl/describe.ts';

const DESCRIBABLE: ResourceKind[] = ['Service', 'Pod', 'Deployment', 'Node'];

async function describeOne(client: ApiClient, kind: ResourceKind, obj: KubeObject): Promise<string> {
  const ns = obj.metadata?.namespace;
  switch (kind) {
    case 'Service': {
      const slices = await client.list<EndpointSlice>(resourcePath('EndpointSlice', ns), { labelSelector: `${LABEL_SERVICE_NAME}=${obj.metadata?.name}` });
      return describeService(obj as Service, slices.items);
    }
    case 'Pod':
      return describePod(obj as Pod);
    case 'Deployment':
      return describeDeployment(obj as Deployment);
    default: {
      const pods = await client.list<Pod>(resourcePath('Pod'), { fieldSelector: `spec.nodeName=${obj.metadata?.name}` });
      return describeNode(obj as K8sNode, pods.items);
    }
  }
}

export default function register(program: Command): void {
  labOptions(
    program
      .command('describe')
      .description('show details of services, pods, deployments or nodes, the way kubectl describe prints them')
      .argument('<resource...>', 'KIND [NAME...] or KIND/NAME (svc, pod, deployment, node)'),
  )
    .option('-l, --selector <selector>', 'label selector')
    .option('-A, --all-namespaces', 'every namespace')
    .addHelpText('after', '\nExamples:\n  svclab describe svc db-service\n  svclab describe pods -l app=db\n  svclab describe node node-01')
    .action((args: string[], opts: { lab?: string; namespace: string; selector?: string; allNamespaces?: boolean }) =>
      kubectlAction(async () => {
        const { kind, refs } = parseResourceArgs(args);
        for (const k of [kind, ...refs.map((r) => r.kind)]) {
          if (k && !DESCRIBABLE.includes(k)) throw new KubectlError(`svclab describe knows services, pods, deployments and nodes, not ${k}`);
        }
        const texts: string[] = [];
        const notFound: string[] = [];
        await withClient(opts.lab, async (client) => {
          const nsOf = (k: ResourceKind) => (namespaced(k) && !opts.allNamespaces ? opts.namespace : undefined);
          if (kind && !refs.length) {
            const list = await client.list<KubeObject>(resourcePath(kind, nsOf(kind)), opts.selector ? { labelSelector: opts.selector } : {});
            for (const o of list.items) texts.push(await describeOne(client, kind, o));
            if (!list.items.length) process.stderr.write(nsOf(kind) ? `No resources found in ${nsOf(kind)} namespace.\n` : 'No resources found\n');
            return;
          }
          for (const r of refs) {
            const ns = namespaced(r.kind) ? opts.namespace : undefined;
            try {
              texts.push(await describeOne(client, r.kind, await client.get<KubeObject>(resourcePath(r.kind, ns, r.name))));
            } catch (err) {
              if (apiStatus(err)?.reason !== 'NotFound') throw err;
              // kubectl describe falls back to a name prefix.
              const list = await client.list<KubeObject>(resourcePath(r.kind, ns));
              const matches = list.items.filter((o) => o.metadata?.name?.startsWith(r.name));
              if (!matches.length) notFound.push(`Error from server (NotFound): ${apiStatus(err)?.message}`);
              for (const o of matches) texts.push(await describeOne(client, r.kind, o));
            }
          }
        });
        // kubectl separates descriptions by an empty line after each one's own final newline.
        if (texts.length) process.stdout.write(texts.join('\n\n'));
        if (notFound.length) {
          process.stderr.write(`${notFound.join('\n')}\n`);
          process.exitCode = 1;
        }
      }),
    );
}
