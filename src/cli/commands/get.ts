import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { selectLab } from '../lab-select.ts';
import { resolveKind } from '../../lifecycle/lab-api.ts';
import { RESOURCES, kindGroup, type KubeObject } from '../../k8s/objects.ts';
import { COLUMNS } from '../kubectl/format.ts';
import { table } from '../../util/output.ts';

export default function register(program: Command): void {
  program
    .command('get')
    .description("list a lab's objects in kubectl's table layout: nodes, pods, svc, endpointslices, deployments, namespaces")
    .argument('<kind>', 'nodes | pods | svc | endpointslices | deployments | namespaces')
    .argument('[name]', 'one object')
    .option('--lab <lab>', 'which lab (default: the only one up)')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-l, --selector <selector>', 'label selector, e.g. app=db')
    .option('-o, --output <format>', 'wide | json | yaml | name')
    .option('--no-headers', 'omit the header line')
    .action(async (kindArg: string, name: string | undefined, opts: { lab?: string; namespace: string; allNamespaces?: boolean; selector?: string; output?: string; headers: boolean }) => {
      const lab = await selectLab(opts.lab);
      const kind = resolveKind(kindArg);
      const namespaced = RESOURCES[kind].namespaced;
      const ns = namespaced && !opts.allNamespaces ? opts.namespace : undefined;
      let items = await lab.api.list<KubeObject>(kind, ns, opts.selector ? { labelSelector: opts.selector } : {});
      if (name) {
        items = items.filter((o) => o.metadata?.name === name);
        if (!items.length) {
          process.stderr.write(`Error from server (NotFound): ${RESOURCES[kind].plural} "${name}" not found\n`);
          process.exitCode = 1;
          return;
        }
      }
      items.sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
      const o = opts.output;
      if (o === 'json' || o === 'yaml') {
        const api = RESOURCES[kind].apiVersion;
        const doc = name ? items[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: items.map((i) => ({ apiVersion: api, kind, ...i })) };
        console.log(o === 'json' ? JSON.stringify(doc, null, 4) : toYaml(doc).trimEnd());
        return;
      }
      if (o === 'name') {
        for (const i of items) console.log(`${kindGroup(kind)}/${i.metadata?.name}`);
        return;
      }
      if (!items.length) {
        process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
        return;
      }
      const cols = COLUMNS[kind];
      const wide = o === 'wide';
      const headers = [...(opts.allNamespaces && namespaced ? ['NAMESPACE'] : []), ...cols.headers, ...(wide ? cols.wide : [])];
      const rows = items.map((i) => [
        ...(opts.allNamespaces && namespaced ? [i.metadata?.namespace ?? ''] : []),
        ...cols.row(i as never),
        ...(wide ? cols.wideRow(i as never) : []),
      ]);
      const text = table(headers, rows);
      console.log(opts.headers ? text : text.split('\n').slice(1).join('\n'));
    });
}
