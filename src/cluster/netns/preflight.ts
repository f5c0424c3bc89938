// Can this machine run the netns driver? Checks what `up`, the CNI plugins
// and every proxy mode need, and says what to install or do when something
// is missing — before anything is created.
import { randomBytes } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../../util/errors.ts';
import { run } from '../../util/exec.ts';

export const CNI_PATH = '/usr/lib/cni';

/** Programs the driver and the layers above run, with the Debian package that has them. */
export const REQUIRED_TOOLS: { bin: string; pkg: string }[] = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'sysctl', pkg: 'procps' },
  { bin: 'umount', pkg: 'mount' },
  { bin: 'iptables', pkg: 'iptables' },
  { bin: 'iptables-save', pkg: 'iptables' },
  { bin: 'iptables-restore', pkg: 'iptables' },
  { bin: 'nft', pkg: 'nftables' },
  { bin: 'conntrack', pkg: 'conntrack' },
];

export const REQUIRED_CNI_PLUGINS = ['bridge', 'host-local', 'loopback'];

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Where `bin` is found on PATH (as run() will find it), or undefined. */
export async function which(bin: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (await isExecutable(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** Problems with the installed programs, one line each (empty if none). */
export async function missingTools(cniPath = CNI_PATH): Promise<string[]> {
  const problems: string[] = [];
  const packages = new Set<string>();
  for (const { bin, pkg } of REQUIRED_TOOLS) {
    if (await which(bin)) continue;
    const elsewhere = (await Promise.all(['/usr/sbin', '/sbin'].map((d) => isExecutable(join(d, bin))))).some(Boolean);
    if (elsewhere) problems.push(`${bin} is installed but not on PATH (add /usr/sbin:/sbin to PATH, or use sudo)`);
    else {
      problems.push(`${bin} is missing (Debian package ${pkg})`);
      packages.add(pkg);
    }
  }
  for (const plugin of REQUIRED_CNI_PLUGINS) {
    if (!(await isExecutable(join(cniPath, plugin)))) {
      problems.push(`CNI plugin ${join(cniPath, plugin)} is missing (Debian package containernetworking-plugins)`);
      packages.add('containernetworking-plugins');
    }
  }
  if (packages.size > 0) problems.push(`install with: apt-get install ${[...packages].join(' ')}`);
  return problems;
}

/**
 * Runs `fn` with a throwaway network namespace. Its name does not start with
 * "svclab-", so no lab's `down` ever claims it; it is deleted whatever happens.
 */
export async function withScratchNetns<T>(fn: (netns: string) => Promise<T>): Promise<T> {
  const netns = `svclabpf-${process.pid}-${randomBytes(3).toString('hex')}`;
  await run(['ip', 'netns', 'add', netns]);
  try {
    return await fn(netns);
  } finally {
    await run(['ip', 'netns', 'delete', netns], { allowFailure: true });
  }
}

/** Kernel features the driver needs, tried for real inside a scratch namespace. */
export async function missingKernelFeatures(): Promise<string[]> {
  return withScratchNetns(async (ns) => {
    const problems: string[] = [];
    const ip = (lines: string[]) => run(['ip', '-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n', allowFailure: true });
    const exec = (argv: string[]) => run(['ip', 'netns', 'exec', ns, ...argv], { allowFailure: true });
    if ((await ip(['link add name br0 type bridge', 'link set br0 up'])).code !== 0) problems.push('the kernel cannot create bridges (CONFIG_BRIDGE)');
    if ((await ip(['link add name va type veth peer name vb'])).code !== 0) problems.push('the kernel cannot create veth pairs (CONFIG_VETH)');
    const sysctls: [string, string][] = [
      ['net.bridge.bridge-nf-call-iptables', 'br_netfilter (CONFIG_BRIDGE_NETFILTER), per namespace since Linux 5.3'],
      ['net.netfilter.nf_conntrack_tcp_timeout_close_wait', 'connection tracking (CONFIG_NF_CONNTRACK)'],
      ['net.ipv4.conf.all.route_localnet', 'IPv4 route_localnet'],
    ];
    for (const [key, what] of sysctls) {
      if ((await exec(['sysctl', '-n', key])).code !== 0) problems.push(`the kernel lacks ${what}: sysctl ${key} is missing in a new namespace`);
    }
    if ((await exec(['iptables', '-t', 'nat', '-S'])).code !== 0) problems.push('iptables cannot use the nat table (CONFIG_NF_NAT / nft_compat)');
    if ((await exec(['nft', 'list', 'ruleset'])).code !== 0) problems.push('nft cannot talk to nf_tables (CONFIG_NF_TABLES)');
    return problems;
  });
}

/** Throws EnvironmentError saying what to do if this machine cannot run the netns driver. */
export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError(
      'the netns driver needs root: it creates network namespaces, links and routes',
      'run svclab with sudo (sudo keeps /usr/sbin on PATH)',
    );
  }
  const tools = await missingTools();
  if (tools.length > 0) {
    const install = tools.find((t) => t.startsWith('install with:'));
    throw new EnvironmentError(`missing programs:\n  ${tools.join('\n  ')}`, install ?? 'add /usr/sbin:/sbin to PATH (sudo does)');
  }
  let kernel: string[];
  try {
    kernel = await missingKernelFeatures();
  } catch (err) {
    throw new EnvironmentError(
      `cannot create a network namespace: ${(err as Error).message}`,
      'svclab needs a Linux kernel with network namespaces (CONFIG_NET_NS) and a writable /run',
    );
  }
  if (kernel.length > 0) throw new EnvironmentError(`kernel features missing:\n  ${kernel.join('\n  ')}`, 'use a stock distribution kernel or the libvirt driver');
}

/** Whether the kernel has IPVS, which the ipvs proxy mode needs. Read-only; never touches the host's IPVS table. */
export async function kernelHasIPVS(): Promise<boolean> {
  if (await access('/proc/net/ip_vs').then(() => true, () => false)) return true;
  if (!(await which('ipvsadm'))) return false;
  // With IPVS as a module not loaded yet, ipvsadm loads it; in a scratch
  // namespace that leaves no IPVS state behind in the host's.
  // A scratch namespace that cannot be made (not root) is preflight's to report; here it is a no.
  return withScratchNetns(async (ns) => (await run(['ip', 'netns', 'exec', ns, 'ipvsadm', '-Ln'], { allowFailure: true })).code === 0).catch(
    () => false,
  );
}
