import type { Command } from 'commander';
import { selectLab } from '../lab-select.ts';
import { EnvironmentError } from '../../util/errors.ts';
import type { Via } from '../../trace/target.ts';

interface TraceCliOptions {
  lab?: string;
  namespace: string;
  via?: string;
  password?: string;
  timeout: string;
  output?: string;
}

export default function register(program: Command): void {
  program
    .command('trace')
    .description('send one real connection and show the path it took through kube-proxy\'s rules on every node it crossed, and which pod answered')
    .argument('<from>', 'a pod (name or label selector app=client), a node (node-02), or "external"')
    .argument('<to>', 'a service (db-service, db-service:3306), ClusterIP:port, pod:port, or NodePort as node-01:30007 / 192.168.49.2:30007')
    .option('--lab <lab>', 'which lab (default: the only one up)')
    .option('-n, --namespace <ns>', 'namespace of FROM/TO names', 'default')
    .option('--via <how>', 'tcp (a connect), http (GET /, the answer names the pod) or sql (SELECT @@hostname); default from the port')
    .option('--password <pw>', 'MariaDB root password for --via sql', 'lab')
    .option('--timeout <ms>', 'client timeout', '3000')
    .option('-o, --output <format>', 'json: the trace as JSON')
    .addHelpText(
      'after',
      `
What it shows, per proxy mode:
  iptables   the rules whose packet counters moved (iptables-save -c just before and after), in
             traversal order: KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-… → DNAT … KUBE-POSTROUTING
  nftables   the kernel's own trace (nft monitor trace, a temporary rule matching this connection):
             the service-ips / service-nodeports element, numgen's pick, the endpoint chain's dnat
  ipvs       the IPVS connection entry: virtual server and the real server chosen
  userspace  the portal rule, the proxy's port, and the proxy's own connection to the endpoint
and in every mode conntrack's original and reply tuples (the addresses before and after NAT).

Examples:
  svclab trace app=client db-service
  svclab trace client-b db-service:3306 -o json
  svclab trace external node-02:30007
  svclab trace node-03 10.96.0.10:53 --via tcp`,
    )
    .action(async (from: string, to: string, opts: TraceCliOptions) => {
      if (opts.via && !['tcp', 'http', 'sql'].includes(opts.via)) throw new EnvironmentError(`--via ${opts.via}: expected tcp, http or sql`);
      const timeoutMs = Number(opts.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new EnvironmentError(`--timeout ${opts.timeout}: expected milliseconds`);
      const lab = await selectLab(opts.lab);
      const { traceConnection } = await import('../../trace/trace.ts');
      const { nodeBin, bundle } = lab.driver.runtime();
      const ctx = { layout: lab.record.layout, mode: lab.record.mode, api: lab.api, nodes: lab.nodes, external: lab.external, bundle, nodeBin, vars: new Map<string, string>() };
      const result = await traceConnection(ctx, lab.record.name, from, to, { via: opts.via as Via | undefined, namespace: opts.namespace, password: opts.password, timeoutMs });
      if (opts.output === 'json') console.log(JSON.stringify(result, null, 2));
      else console.log((await import('../../trace/format.ts')).formatTrace(result));
      // A connection that got no answer is a finding, not a crash: exit 1 like a failed check.
      process.exitCode = result.connection.ok ? 0 : 1;
    });
}
