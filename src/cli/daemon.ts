// `svclab daemon <name> --flags…`: the node-side programs, all in the one bundle.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

export async function runDaemon(argv: string[]): Promise<void> {
  const [name, ...flags] = argv;
  switch (name) {
    case 'apiserver': {
      const { runApiServer, parseApiServerFlags } = await import('../controlplane/apiserver.ts');
      await runApiServer(parseApiServerFlags(flags));
      return;
    }
    case 'kubelet': {
      const { values: v } = parseArgs({
        args: flags,
        options: {
          'hostname-override': { type: 'string' }, 'node-ip': { type: 'string' }, 'api-server': { type: 'string' },
          'root-dir': { type: 'string' }, 'cni-conf-dir': { type: 'string' }, 'pod-cidr': { type: 'string' },
          'netns-prefix': { type: 'string' }, 'cluster-dns': { type: 'string' }, 'cluster-domain': { type: 'string', default: 'cluster.local' },
          'dns-hosts-dir': { type: 'string' }, lab: { type: 'string' },
        },
      });
      const { runKubelet } = await import('../workloads/kubelet.ts');
      await runKubelet({
        nodeName: v['hostname-override']!, nodeIP: v['node-ip']!, api: v['api-server']!, labName: v.lab!,
        stateDir: v['root-dir']!, cniConfDir: v['cni-conf-dir']!, netnsPrefix: v['netns-prefix']!,
        bundle: fileURLToPath(import.meta.url), dnsIP: v['cluster-dns']!, clusterDomain: v['cluster-domain']!,
        dnsHostsDir: v['dns-hosts-dir']!,
      });
      return;
    }
    case 'proxy': {
      const { runProxyDaemon } = await import('../proxy/daemon.ts');
      await runProxyDaemon(flags);
      return;
    }
    case 'netexec': {
      const { runNetexec } = await import('../workloads/netexec.ts');
      await runNetexec(flags);
      return;
    }
    case 'api-forward': {
      // On the host, not in a node: the lab API's loopback endpoint (src/lifecycle/loopback-forward.ts).
      const { values: v } = parseArgs({ args: flags, options: { socket: { type: 'string' }, record: { type: 'string' }, port: { type: 'string' } } });
      if (!v.socket || !v.record) throw new Error('api-forward needs --socket and --record');
      const { runLoopbackForwarder } = await import('../lifecycle/loopback-forward.ts');
      await runLoopbackForwarder({ socket: v.socket, record: v.record, port: v.port ? Number(v.port) : 0 });
      return;
    }
    default:
      throw new Error(`unknown daemon "${name}" (apiserver, kubelet, proxy, netexec, api-forward)`);
  }
}
