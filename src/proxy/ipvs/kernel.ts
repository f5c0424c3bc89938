// Whether a node's kernel can run IPVS mode: the ip_vs core (which creates
// /proc/net/ip_vs) and dummy links (for kube-ipvs0). Upstream's
// CanUseIPVSProxier probes by adding a dummy virtual server; reading
// /proc/net/ip_vs answers the same question without touching the table.
import { EnvironmentError } from '../../util/errors.ts';
import type { CommandRunner } from '../jump-rules.ts';

export interface IpvsKernelReport {
  kernel: string;
  ipvs: boolean;
  dummy: boolean;
  /** The first line of what `ip link add ... type dummy` said when it failed. */
  dummyError?: string;
}

export interface IpvsKernelOptions {
  /**
   * Try `modprobe ip_vs` / `modprobe dummy` first (modular kernels, e.g. on VMs).
   * Off by default: on the netns driver a module load would change the host kernel.
   */
  loadModules?: boolean;
}

const PROBE_LINK = 'svclab-dprobe';

export async function ipvsKernelSupport(node: CommandRunner, opts: IpvsKernelOptions = {}): Promise<IpvsKernelReport> {
  const where = node.name;
  const kernel = (await node.exec(['uname', '-r'], { where })).stdout.trim();
  const hasProc = async () => (await node.exec(['test', '-e', '/proc/net/ip_vs'], { allowFailure: true, where })).code === 0;
  let ipvs = await hasProc();
  if (!ipvs && opts.loadModules) {
    await node.exec(['modprobe', 'ip_vs'], { allowFailure: true, where });
    ipvs = await hasProc();
  }
  if (opts.loadModules) await node.exec(['modprobe', 'dummy'], { allowFailure: true, where });
  // Probe with a throwaway link in the node's own namespace.
  const add = await node.exec(['ip', 'link', 'add', PROBE_LINK, 'type', 'dummy'], { allowFailure: true, where });
  const dummy = add.code === 0;
  if (dummy) await node.exec(['ip', 'link', 'del', PROBE_LINK], { allowFailure: true, where });
  const report: IpvsKernelReport = { kernel, ipvs, dummy };
  if (!dummy) report.dummyError = (add.stderr || add.stdout).trim().split('\n')[0];
  return report;
}

/** The error to show for a kernel that cannot run IPVS mode, or undefined when it can. */
export function ipvsKernelError(r: IpvsKernelReport): EnvironmentError | undefined {
  if (!r.ipvs) {
    return new EnvironmentError(
      `IPVS mode needs the kernel's ip_vs (this kernel ${r.kernel} has none: /proc/net/ip_vs is missing); run this lab with --driver libvirt, or choose --mode iptables|nftables`,
    );
  }
  if (!r.dummy) {
    return new EnvironmentError(
      `IPVS mode needs dummy links for kube-ipvs0 (this kernel ${r.kernel} has none: ip link add type dummy said "${r.dummyError}"); run this lab with --driver libvirt, or choose --mode iptables|nftables`,
    );
  }
  return undefined;
}

export async function requireIpvsKernel(node: CommandRunner, opts: IpvsKernelOptions = {}): Promise<void> {
  const err = ipvsKernelError(await ipvsKernelSupport(node, opts));
  if (err) throw err;
}
