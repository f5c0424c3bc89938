// The sync benchmark's cluster: N ClusterIP Services with one TCP port and two
// ready endpoints each, as Services + EndpointSlices run through the proxy's own
// model (buildProxyState), so the render sees exactly what a running proxy would.
// The "changed" variant gives one service a third endpoint: a one-service change
// (a Deployment scaled from 2 to 3) that writes new chains and, reverted, leaves
// one stale chain behind — the common shape of an endpoint change.
import type { EndpointSlice, Service } from '../src/k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../src/k8s/labels.ts';
import { DEFAULT_SETTINGS, type ProxySettings, type ProxyState } from '../src/proxy/model.ts';
import { buildProxyState } from '../src/proxy/proxy-state.ts';

export const BENCH_NAMESPACE = 'bench';
export const BENCH_NODE = 'node-01';

export function benchSettings(): ProxySettings {
  return { ...DEFAULT_SETTINGS, nodeName: BENCH_NODE, nodeIPs: ['192.168.49.2'], clusterCIDR: '10.244.0.0/16' };
}

function serviceName(i: number): string {
  return `svc-${String(i).padStart(5, '0')}`;
}

/** The service that the one-service change touches: the middle one. */
export function changedIndex(n: number): number {
  return Math.floor(n / 2);
}

/** Its service port key ("bench/svc-00500:http"), what the change tracker would hand the backend. */
export function changedKey(n: number): string {
  return `${BENCH_NAMESPACE}/${serviceName(changedIndex(n))}:http`;
}

/** 10.96.0.0/12 has room for a million ClusterIPs; i -> 10.96.(i>>8).(i&255) + an offset past .0/.1/.10. */
function clusterIP(i: number): string {
  const v = i + 16;
  return `10.${96 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

/** Pod IPs on two other nodes' /24s-worth of space: endpoint j of service i. */
function podIP(i: number, j: number): string {
  const v = i * 4 + j + 2;
  return `10.${244 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

export function benchObjects(n: number, changed = false): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const bump = changed ? changedIndex(n) : -1;
  for (let i = 0; i < n; i++) {
    const name = serviceName(i);
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: BENCH_NAMESPACE },
      spec: { type: 'ClusterIP', clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
    });
    const count = i === bump ? 3 : 2;
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace: BENCH_NAMESPACE, labels: { [LABEL_SERVICE_NAME]: name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: count }, (_, j) => ({
        addresses: [podIP(i, j)],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: j % 2 === 0 ? 'node-02' : 'node-03',
      })),
    });
  }
  return { services, slices };
}

/** The two states the benchmark moves between: as listed, and with the one change applied. */
export function benchStates(n: number, settings = benchSettings()): { base: ProxyState; changed: ProxyState } {
  return {
    base: buildProxyState(benchObjects(n, false), settings),
    changed: buildProxyState(benchObjects(n, true), settings),
  };
}
