import type { Command } from 'commander';
import { Progress, paint } from '../../util/output.ts';
import { loadLab } from '../../lab/load.ts';
import { getDriver } from '../../cluster/drivers.ts';
import { upLab } from '../../lifecycle/up.ts';
import { preflightLab } from '../../lifecycle/preflight.ts';
import { PROXY_MODES, parseProxyMode } from '../../k8s/proxy-mode.ts';

export default function register(program: Command): void {
  program
    .command('up')
    .description('bring a lab up: nodes, CNI, control plane, kubelet + kube-proxy on every node, workloads')
    .argument('<lab>', 'lab file, e.g. labs/clusterip-db.yaml')
    .option('--driver <driver>', 'netns (namespaces on this host) or libvirt (VMs)', 'netns')
    .option('--mode <mode>', `override the lab's proxy mode: ${PROXY_MODES.join(', ')}`)
    .option('-o, --output <format>', 'json: print the lab (nodes, services) as JSON when up')
    .option('--adopt', 'the nodes exist already (made by the Pulumi stack): start the lab on them instead of creating them')
    .option('--skip-proxy', 'start no kube-proxy (then: svclab proxy restart LAB --mode M)')
    .option('--skip-workloads', "apply none of the lab's manifests (then: svclab apply -f LAB)")
    .addHelpText('after', '\nThe lab stays up until `svclab down`. Its state lives in /var/lib/svclab/<lab>.\nkubectl: a context svclab-<lab> (https://127.0.0.1:<port>, admin certificate) is merged into $KUBECONFIG\'s first file or ~/.kube/config and made current; `down` removes it.')
    .action(async (file: string, opts: { driver: string; mode?: string; output?: string; adopt?: boolean; skipProxy?: boolean; skipWorkloads?: boolean }) => {
      const lab = await loadLab(file, { mode: opts.mode === undefined ? undefined : parseProxyMode(opts.mode) });
      const driver = await getDriver(opts.driver);
      await preflightLab(lab, driver);
      const progress = new Progress(opts.output === 'json');
      const t0 = Date.now();
      const running = await upLab(lab, driver, progress, { adopt: opts.adopt, skipProxy: opts.skipProxy, skipWorkloads: opts.skipWorkloads });
      const seconds = (Date.now() - t0) / 1000;
      const services = await running.api.list<import('../../k8s/objects.ts').Service>('Service');
      if (opts.output === 'json') {
        console.log(JSON.stringify({
          lab: lab.name, driver: driver.name, mode: lab.layout.proxyMode, seconds, phases: progress.timings,
          nodes: lab.layout.nodes, external: lab.layout.external,
          ...(running.record.apiPort ? { kubeconfig: { file: running.record.kubeconfig, context: `svclab-${lab.name}`, server: `https://127.0.0.1:${running.record.apiPort}` } } : {}),
          services: services.map((s) => ({ namespace: s.metadata?.namespace, name: s.metadata?.name, type: s.spec?.type, clusterIP: s.spec?.clusterIP, ports: s.spec?.ports })),
        }, null, 2));
        return;
      }
      console.log(`\nLab ${paint('bold', lab.name)} is up in ${seconds.toFixed(1)}s (${driver.name} driver, kube-proxy in ${lab.layout.proxyMode} mode).`);
      if (running.record.apiPort) {
        console.log(`  kubectl context ${paint('bold', `svclab-${lab.name}`)} (https://127.0.0.1:${running.record.apiPort}) is in ${running.record.kubeconfig} and current:`);
        console.log(`  kubectl get pods -A -o name      the lab's pods, with your own kubectl`);
        console.log(`  kubectl auth whoami              kubernetes-admin (system:masters)`);
      }
      console.log(`  svclab get pods -o wide          see where the pods run`);
      console.log(`  svclab exec node-01 -- iptables -t nat -L KUBE-SERVICES -n`);
      console.log(`  svclab run ${file}   run its scenario;  svclab down ${lab.name}   remove it`);
    });
}
