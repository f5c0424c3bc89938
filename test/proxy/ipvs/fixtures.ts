// Plain-data builders for ProxyState, shaped like upstream's makeTestService /
// makeTestEndpointSlice helpers so the cases read like proxier_test.go.
import { DEFAULT_SETTINGS, type EndpointInfo, type ProxySettings, type ProxyState, type ServicePortInfo } from '../../../src/proxy/model.ts';

export const NODE = 'test-node';

export function svc(ns: string, name: string, port: string, p: Partial<ServicePortInfo> = {}): ServicePortInfo {
  const protocol = p.protocol ?? 'TCP';
  const key = `${ns}/${name}${port ? `:${port}` : ''}`;
  const s: ServicePortInfo = {
    name: { namespace: ns, name, port, protocol },
    key,
    clusterIP: '',
    port: 80,
    protocol,
    nodePort: 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinityClientIP: false,
    stickyMaxAgeSeconds: 10800,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    healthCheckNodePort: 0,
    externallyAccessible: false,
    ...p,
  };
  s.externallyAccessible = p.externallyAccessible ?? (s.nodePort !== 0 || s.externalIPs.length > 0 || s.loadBalancerVIPs.length > 0);
  return s;
}

export function ep(ip: string, port: number, p: Partial<EndpointInfo> = {}): EndpointInfo {
  const nodeName = p.nodeName ?? '';
  return {
    ip, port, endpoint: `${ip}:${port}`, nodeName, zone: '', isLocal: nodeName === NODE,
    ready: true, serving: true, terminating: false, ...p,
  };
}

export function state(entries: [ServicePortInfo, EndpointInfo[]][]): ProxyState {
  return {
    services: new Map(entries.map(([s]) => [s.key, s])),
    endpoints: new Map(entries.map(([s, eps]) => [s.key, eps])),
    serviceCIDRs: [],
  };
}

export function settings(p: Partial<ProxySettings> = {}): ProxySettings {
  return { ...DEFAULT_SETTINGS, nodeName: NODE, nodeIPs: [], ...p };
}

/** The rules of one chain of an iptables-restore payload, without "-A CHAIN". */
export function chainRules(restore: string, table: string, chain: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of restore.split('\n')) {
    if (line.startsWith('*')) cur = line.slice(1);
    else if (cur === table && line.startsWith(`-A ${chain} `)) out.push(line.slice(`-A ${chain} `.length));
  }
  return out;
}

/** Upstream checkIptables' view of a rule: its jump target and the set it matches ("" if none). */
export function jumpsAndSets(rules: string[]): string[] {
  return rules.map((r) => {
    const j = r.match(/-j (\S+)/)?.[1] ?? '';
    const set = r.match(/--match-set (\S+)/)?.[1] ?? '';
    const src = r.match(/(?:^| )-s (\S+)/)?.[1];
    return `${j}${set ? ` ${set}` : ''}${src && !set ? ` -s ${src}` : ''}`;
  });
}
