// The command lines of the node daemons. They carry their settings as flags
// named like the upstream components' (kube-apiserver, kubelet, kube-proxy),
// so `svclab exec node-01 -- ps aux` teaches what a real node shows.
import { join } from 'node:path';
import type { LabLayout } from '../lab/load.ts';

export const API_PORT = 6443;

export function apiURL(layout: LabLayout): string {
  return `http://${layout.nodes[0].ip}:${API_PORT}`;
}

export function nodeDir(stateDir: string, node: string): string {
  return join(stateDir, 'nodes', node);
}

export function cniConfDir(stateDir: string, node: string): string {
  return join(nodeDir(stateDir, node), 'cni', 'net.d');
}

export function dnsHostsDir(stateDir: string): string {
  return join(stateDir, 'dns');
}

/**
 * With `secureSocket`, the apiserver also speaks TLS (on its port and on that
 * socket) with the lab PKI under `<stateDir>/pki`, as kubeadm passes
 * /etc/kubernetes/pki/apiserver.crt and friends.
 */
export function apiServerArgv(layout: LabLayout, stateDir: string, socket: string, secureSocket?: string): string[] {
  const cp = layout.nodes[0];
  const { base, size } = layout.nodePortRange;
  return [
    'daemon', 'apiserver',
    `--advertise-address=${cp.ip}`,
    `--bind-address=${cp.ip}`,
    `--secure-port=${API_PORT}`,
    `--service-cluster-ip-range=${layout.serviceCIDR}`,
    `--service-node-port-range=${base}-${base + size - 1}`,
    `--unix-socket=${socket}`,
    `--state-dir=${join(stateDir, 'controlplane')}`,
    `--nodes=${layout.nodes.map((n) => `${n.name}=${n.ip}=${n.podCIDR}`).join(',')}`,
    `--dns-hosts-dir=${dnsHostsDir(stateDir)}`,
    ...(secureSocket
      ? [
        `--tls-cert-file=${join(stateDir, 'pki', 'apiserver.crt')}`,
        `--tls-private-key-file=${join(stateDir, 'pki', 'apiserver.key')}`,
        `--client-ca-file=${join(stateDir, 'pki', 'ca.crt')}`,
        `--secure-unix-socket=${secureSocket}`,
      ]
      : []),
  ];
}

export function kubeletArgv(layout: LabLayout, node: { name: string; ip: string; podCIDR: string }, stateDir: string): string[] {
  return [
    'daemon', 'kubelet',
    `--hostname-override=${node.name}`,
    `--node-ip=${node.ip}`,
    `--api-server=${apiURL(layout)}`,
    `--root-dir=${stateDir}`,
    `--cni-conf-dir=${cniConfDir(stateDir, node.name)}`,
    `--pod-cidr=${node.podCIDR}`,
    `--netns-prefix=svclab-${layout.name}-p-`,
    `--cluster-dns=${layout.dnsIP}`,
    `--cluster-domain=${layout.clusterDomain}`,
    `--dns-hosts-dir=${dnsHostsDir(stateDir)}`,
    `--lab=${layout.name}`,
  ];
}

export function proxyArgv(layout: LabLayout, node: { name: string; ip: string }, mode: string, configFile?: string, opts: { loadModules?: boolean; cleanup?: boolean } = {}): string[] {
  return [
    'daemon', 'proxy',
    `--proxy-mode=${mode}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.ip}`,
    `--master=${apiURL(layout)}`,
    `--cluster-cidr=${layout.podCIDR}`,
    ...(configFile ? [`--config=${configFile}`] : []),
    ...(opts.loadModules ? ['--load-modules'] : []),
    ...(opts.cleanup ? ['--cleanup'] : []),
  ];
}
