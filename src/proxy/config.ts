// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) → our settings.
// Used by the proxy daemon, `svclab proxy render --config` and lab files.
import type { ProxySettings } from './model.ts';

export interface KubeProxyConfiguration {
  apiVersion?: string;
  kind?: string;
  mode?: string;
  clusterCIDR?: string;
  detectLocalMode?: string;
  nodePortAddresses?: string[];
  iptables?: { masqueradeAll?: boolean; masqueradeBit?: number; localhostNodePorts?: boolean; syncPeriod?: string; minSyncPeriod?: string };
  ipvs?: { scheduler?: string; syncPeriod?: string; minSyncPeriod?: string };
  nftables?: { masqueradeAll?: boolean; masqueradeBit?: number; syncPeriod?: string; minSyncPeriod?: string };
  conntrack?: { tcpBeLiberal?: boolean };
  [k: string]: unknown;
}

export function settingsFromConfig(c: KubeProxyConfiguration): Partial<ProxySettings> {
  const s: Partial<ProxySettings> = {};
  // detectLocalMode ClusterCIDR (the default) uses clusterCIDR; other modes aren't modelled: no detector.
  if (c.clusterCIDR !== undefined && (c.detectLocalMode ?? 'ClusterCIDR') === 'ClusterCIDR') s.clusterCIDR = c.clusterCIDR.split(',')[0];
  const masqAll = c.iptables?.masqueradeAll ?? c.nftables?.masqueradeAll;
  if (masqAll !== undefined) s.masqueradeAll = masqAll;
  const bit = c.iptables?.masqueradeBit ?? c.nftables?.masqueradeBit;
  if (bit !== undefined) s.masqueradeBit = bit;
  if (c.iptables?.localhostNodePorts !== undefined) s.localhostNodePorts = c.iptables.localhostNodePorts;
  if (c.nodePortAddresses) s.nodePortAddresses = c.nodePortAddresses;
  if (c.conntrack?.tcpBeLiberal !== undefined) s.conntrackTCPBeLiberal = c.conntrack.tcpBeLiberal;
  if (c.ipvs?.scheduler) s.ipvsScheduler = c.ipvs.scheduler;
  return s;
}
