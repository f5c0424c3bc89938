// Kernel settings both drivers give the lab's namespaces and VMs: the same
// sysctls on a node whether it is a namespace or a VM, so a proxy mode sees
// the same kernel either way.

/**
 * What a kube-proxy node needs from its kernel, per node namespace. Upstream
 * kube-proxy sets route_localnet (iptables mode, localhost NodePorts) and the
 * conntrack timeouts of its KubeProxyConntrackConfiguration, raising a value
 * only if it is lower: close_wait 1h over the kernel's 60s; established 24h
 * stays at the kernel's larger 5 days, so it is left alone. nf_conntrack_max
 * belongs to the initial namespace only (a node namespace gets EINVAL), so
 * it is not set. br_netfilter's switches are per namespace since Linux 5.3.
 * rp_filter is pinned off: the kernel uses max(all, <dev>), and a strict
 * value inherited from the host would drop replies that arrive on another
 * interface than the one the source route points to (kubeadm nodes run 0 or 2).
 */
export const NODE_SYSCTLS: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.ipv4.conf.all.route_localnet', '1'],
  ['net.ipv4.conf.all.rp_filter', '0'],
  ['net.ipv4.conf.default.rp_filter', '0'],
  ['net.netfilter.nf_conntrack_tcp_timeout_close_wait', '3600'],
];

/**
 * The node network is a plain L2 switch plus a gateway address: bridged frames
 * must not run through its (empty) iptables and conntrack.
 */
export const NETWORK_SYSCTLS: [string, string][] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.bridge.bridge-nf-call-iptables', '0'],
];
