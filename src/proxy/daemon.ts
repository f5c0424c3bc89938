// `svclab daemon proxy …`: our kube-proxy, one per node, inside the node. Flags
// are kube-proxy's own (a learner's `ps aux` shows --proxy-mode=iptables and
// --cluster-cidr as on a real node); --config takes a real KubeProxyConfiguration.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ApiClient, informer } from '../controlplane/client.ts';
import type { Service, EndpointSlice, ServiceCIDR } from '../k8s/objects.ts';
import { DEFAULT_SETTINGS, type ProxySettings } from './model.ts';
import { Proxier } from './proxier.ts';
import { proxyMode } from './modes.ts';
import { parseProxyMode } from '../k8s/proxy-mode.ts';
import { serveMetrics } from './metrics.ts';
import { settingsFromConfig, type KubeProxyConfiguration } from './config.ts';

export async function runProxyDaemon(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'proxy-mode': { type: 'string', default: 'iptables' },
      'hostname-override': { type: 'string' },
      'node-ip': { type: 'string' },
      master: { type: 'string' },
      'cluster-cidr': { type: 'string', default: '' },
      config: { type: 'string' },
      'metrics-bind-address': { type: 'string', default: '127.0.0.1:10249' },
      'healthz-bind-address': { type: 'string', default: '0.0.0.0:10256' },
      'iptables-sync-period': { type: 'string', default: '30s' },
      'iptables-min-sync-period': { type: 'string', default: '1s' },
      'masquerade-all': { type: 'boolean', default: false },
      'iptables-backend': { type: 'string', default: 'nft' },
      'v': { type: 'string' },
      // As upstream's --cleanup: remove this mode's rules and exit (used by `svclab proxy restart` on the old mode).
      'cleanup': { type: 'boolean', default: false },
      // VM nodes have a modular kernel of their own: let IPVS mode modprobe ip_vs/dummy (never on namespace nodes: modules are host-wide).
      'load-modules': { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const log = (line: string) => console.log(`${new Date().toISOString()} proxy: ${line}`);
  const nodeName = values['hostname-override'] ?? '';
  const nodeIPs = (values['node-ip'] ?? '').split(',').filter(Boolean);
  if (!nodeName || !nodeIPs.length || !values.master) throw new Error('--hostname-override, --node-ip and --master are required');

  let config: KubeProxyConfiguration = {};
  if (values.config) config = parseYaml(readFileSync(values.config, 'utf8')) as KubeProxyConfiguration;
  const settings: ProxySettings = {
    ...DEFAULT_SETTINGS,
    ...settingsFromConfig(config),
    nodeName,
    nodeIPs,
  };
  if (values['cluster-cidr']) settings.clusterCIDR = values['cluster-cidr'];
  if (values['masquerade-all']) settings.masqueradeAll = true;
  const mode = parseProxyMode(config.mode || values['proxy-mode']!);
  const modeModule = proxyMode(mode);
  const syncPeriodMs = parseDuration(config.iptables?.syncPeriod ?? values['iptables-sync-period']!);
  const minSyncPeriodMs = parseDuration(config.iptables?.minSyncPeriod ?? values['iptables-min-sync-period']!);

  log(`starting in ${mode} mode on ${nodeName} (${nodeIPs.join(',')}), cluster CIDR ${settings.clusterCIDR || '(none: no local-traffic detector)'}`);
  const backend = await modeModule.createBackend(settings, { iptablesBackend: values['iptables-backend'] === 'legacy' ? 'legacy' : 'nft', log, loadModules: values['load-modules'] });
  if (values.cleanup) {
    await backend.cleanup();
    log(`removed the ${mode} mode's rules`);
    return;
  }
  await backend.setup();
  const proxier = new Proxier({ settings, backend, minSyncPeriodMs, syncPeriodMs, log });
  serveMetrics(proxier.metrics, values['metrics-bind-address']!, () => proxier.health(), mode);
  if (values['healthz-bind-address'] !== values['metrics-bind-address']) serveMetrics(proxier.metrics, values['healthz-bind-address']!, () => proxier.health());

  const client = new ApiClient(values.master);
  // As upstream's handlers: an event only asks for a sync when the tracker still
  // holds a change afterwards (an update back to the synced state cancels out).
  const t = proxier.tracker;
  const handlers = <T>(changed: (o: T, deleted?: boolean) => boolean, synced?: () => void) => ({
    onAdd: (o: T) => void (changed(o) && proxier.onChange()),
    onUpdate: (_old: T, o: T) => void (changed(o) && proxier.onChange()),
    onDelete: (o: T) => void (changed(o, true) && proxier.onChange()),
    ...(synced ? { onSynced: synced } : {}),
  });
  informer<Service>(client, '/api/v1/services', handlers<Service>((o, d) => t.serviceChanged(o, d), () => proxier.markSynced('services')));
  informer<EndpointSlice>(client, '/apis/discovery.k8s.io/v1/endpointslices', handlers<EndpointSlice>((o, d) => t.sliceChanged(o, d), () => proxier.markSynced('slices')));
  if (modeModule.watchesServiceCIDRs) {
    informer<ServiceCIDR>(client, '/apis/networking.k8s.io/v1/servicecidrs', handlers<ServiceCIDR>((o, d) => t.serviceCIDRChanged(o, d)));
  }
  const stop = () => {
    log('stopping');
    proxier.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Go-style durations as KubeProxyConfiguration writes them: "30s", "1m0s", "500ms". */
export function parseDuration(text: string): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let m: RegExpExecArray | null;
  let matched = false;
  while ((m = re.exec(text))) {
    matched = true;
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  if (!matched) throw new Error(`"${text}" is not a duration (like 30s, 1m0s, 500ms)`);
  return ms;
}
