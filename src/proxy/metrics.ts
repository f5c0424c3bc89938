// The sync metrics upstream kube-proxy exposes (pkg/proxy/metrics), served in
// the Prometheus text format on the node's metrics address.
import { createServer, type Server } from 'node:http';

const DURATION_BUCKETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];

class Histogram {
  private counts = new Array(DURATION_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string) {}
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    DURATION_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.counts[i]++;
    });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    DURATION_BUCKETS.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

type Labels = Record<string, string>;
class Gauge {
  private values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: 'gauge' | 'counter' = 'gauge') {}
  set(v: number, labels: Labels = {}): void {
    this.values.set(labelText(labels), v);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0 && this.type === 'counter') lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

function labelText(labels: Labels): string {
  const e = Object.entries(labels);
  return e.length ? `{${e.map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
}

export class ProxyMetrics {
  readonly syncDuration = new Histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds');
  readonly syncFullDuration = new Histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs');
  readonly syncPartialDuration = new Histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs');
  readonly networkProgramming = new Histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds');
  readonly lastTimestamp = new Gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced');
  readonly lastQueuedTimestamp = new Gauge('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', 'The last time a sync of proxy rules was queued');
  readonly endpointChangesPending = new Gauge('kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'Pending proxy rules Endpoint changes');
  readonly endpointChangesTotal = new Gauge('kubeproxy_sync_proxy_rules_endpoint_changes_total', 'Cumulative proxy rules Endpoint changes', 'counter');
  readonly serviceChangesPending = new Gauge('kubeproxy_sync_proxy_rules_service_changes_pending', 'Pending proxy rules Service changes');
  readonly serviceChangesTotal = new Gauge('kubeproxy_sync_proxy_rules_service_changes_total', 'Cumulative proxy rules Service changes', 'counter');
  readonly restoreFailures = new Gauge('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'Cumulative proxy iptables restore failures', 'counter');
  readonly partialRestoreFailures = new Gauge('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', 'Cumulative proxy iptables partial restore failures', 'counter');
  readonly iptablesTotal = new Gauge('kubeproxy_sync_proxy_rules_iptables_total', 'Total number of iptables rules owned by kube-proxy');
  readonly iptablesLast = new Gauge('kubeproxy_sync_proxy_rules_iptables_last', 'Number of iptables rules written by kube-proxy in last sync');
  readonly noLocalEndpoints = new Gauge('kubeproxy_sync_proxy_rules_no_local_endpoints_total', 'Number of services with a Local traffic policy and no endpoints');
  readonly nftSyncFailures = new Gauge('kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'Cumulative proxy nftables sync failures', 'counter');
  readonly nftCleanupFailures = new Gauge('kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total', 'Cumulative proxy nftables cleanup failures', 'counter');
  readonly healthz = new Gauge('kubeproxy_proxy_healthz_total', 'Cumulative proxy healthz HTTP status', 'counter');
  readonly livez = new Gauge('kubeproxy_proxy_livez_total', 'Cumulative proxy livez HTTP status', 'counter');
  /** svclab's own: syncs by kind, so labs and benchmarks can see partial vs full. */
  readonly syncs = new Gauge('svclab_proxy_syncs_total', 'Proxy rule syncs by kind (full, partial)', 'counter');
  /** svclab's own: when the last successful sync took its snapshot (changes queued after it are not in the kernel yet). */
  readonly lastSnapshot = new Gauge('svclab_proxy_sync_snapshot_timestamp_seconds', 'When the last successful sync read the Services and EndpointSlices it applied');

  render(): string {
    return (
      [
        this.syncDuration, this.syncFullDuration, this.syncPartialDuration, this.networkProgramming,
        this.lastTimestamp, this.lastQueuedTimestamp, this.endpointChangesPending, this.endpointChangesTotal,
        this.serviceChangesPending, this.serviceChangesTotal, this.restoreFailures, this.partialRestoreFailures,
        this.iptablesTotal, this.iptablesLast, this.noLocalEndpoints, this.nftSyncFailures, this.nftCleanupFailures,
        this.healthz, this.livez, this.syncs, this.lastSnapshot,
      ]
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}

/**
 * Serves /metrics (Prometheus) and /healthz (upstream's JSON shape) on host:port,
 * and /proxyMode when given the mode: upstream's metrics server answers
 * `curl 127.0.0.1:10249/proxyMode` with the mode in use, which is how one asks a node.
 */
export function serveMetrics(metrics: ProxyMetrics, address: string, healthy: () => { lastUpdated: Date; healthy: boolean }, mode?: string): Server {
  const [host, port] = splitHostPort(address);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
    } else if (req.url === '/proxyMode' && mode) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(mode);
    } else if (req.url === '/healthz' || req.url === '/livez') {
      const h = healthy();
      const code = h.healthy ? 200 : 503;
      (req.url === '/healthz' ? metrics.healthz : metrics.livez).inc({ code: String(code) });
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ lastUpdated: h.lastUpdated.toISOString(), currentTime: new Date().toISOString() }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, host);
  return server;
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
