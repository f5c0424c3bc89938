// The side-effect half of IPVS mode: read what the node's kernel has, diff it
// against a render, and run only the difference — ipsets first (the iptables
// rules reference them), then iptables, kube-ipvs0 addresses, the IPVS table,
// and address removals last, the order upstream syncProxyRules uses.
import { EnvironmentError } from '../../util/errors.ts';
import { deleteJumpRules, ensureChainsAndJumps, iptablesBinaries, type CommandRunner, type IptablesBinaries } from '../jump-rules.ts';
import { diffIpvs, type IpvsKernelState, type IpvsPlan } from './diff.ts';
import { IPSET_INFO } from './ipsets.ts';
import { IPVS_FILTER_CHAINS, IPVS_JUMPS, IPVS_NAT_CHAINS } from './iptables.ts';
import { requireIpvsKernel, type IpvsKernelOptions } from './kernel.ts';
import { parseDeviceAddresses, parseIpsetSave, parseIpvsadmList } from './parse.ts';
import { DUMMY_DEVICE } from './render.ts';
import type { IpvsRuleset } from './types.ts';

export interface IpvsApplyOptions extends IpvsKernelOptions {
  /** First sync after start: check the kernel and write the sysctls (upstream does both in NewProxier). */
  setup?: boolean;
  /** iptables binaries (nft or legacy backend); default `iptables`. */
  bin?: IptablesBinaries;
  /** setup without the kernel check (the caller's setup made it already). */
  kernelChecked?: boolean;
  /** Skip the iptables restore and jump check (the caller knows the payload is what it wrote moments ago). */
  skipIptables?: boolean;
}

export async function readIpvsKernelState(node: CommandRunner): Promise<IpvsKernelState> {
  const where = node.name;
  const list = await node.exec(['ipvsadm', '-Ln'], { where });
  const sets = await node.exec(['ipset', 'save'], { where });
  const addrs = await node.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', DUMMY_DEVICE], { allowFailure: true, where });
  return {
    virtualServers: parseIpvsadmList(list.stdout),
    ipsets: parseIpsetSave(sets.stdout),
    dummyAddresses: addrs.code === 0 ? parseDeviceAddresses(addrs.stdout) : [],
    dummyPresent: addrs.code === 0,
  };
}

/** Creates kube-ipvs0 if missing. Upstream leaves it down: addresses on a down dummy are still local. */
export async function ensureDummyDevice(node: CommandRunner): Promise<boolean> {
  const show = await node.exec(['ip', 'link', 'show', DUMMY_DEVICE], { allowFailure: true, where: node.name });
  if (show.code === 0) return false;
  await node.exec(['ip', 'link', 'add', DUMMY_DEVICE, 'type', 'dummy'], { where: node.name });
  return true;
}

export async function writeSysctls(node: CommandRunner, sysctls: Record<string, string>): Promise<void> {
  const args = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
  if (args.length) await node.exec(['sysctl', '-q', '-w', ...args], { where: node.name });
}

/** The ipset and iptables half of a sync (no IPVS needed, so it also runs on kernels without ip_vs). */
export async function applyIpsetsAndIptables(
  node: CommandRunner, desired: IpvsRuleset, plan: Pick<IpvsPlan, 'ipset'>, bin = iptablesBinaries(), writeIptables = true,
): Promise<void> {
  const where = node.name;
  if (plan.ipset.length) await node.exec(['ipset', 'restore', '-exist'], { input: plan.ipset.join('\n') + '\n', where });
  if (!writeIptables) return;
  await node.exec([bin.restore, '-w', '--noflush', '--counters'], { input: desired.iptables, where });
  // The restore made every target chain; one save tells which jumps to them are missing.
  await ensureChainsAndJumps(node, [], desired.jumps, bin);
}

export async function applyIpvs(node: CommandRunner, desired: IpvsRuleset, opts: IpvsApplyOptions = {}): Promise<IpvsPlan> {
  const where = node.name;
  if (opts.setup) {
    if (!opts.kernelChecked) await requireIpvsKernel(node, opts);
    await writeSysctls(node, desired.sysctls);
  }
  const current = await readIpvsKernelState(node);
  if (!current.dummyPresent) await ensureDummyDevice(node);
  const plan = diffIpvs(current, desired);
  if (plan.conflicts.length) {
    throw new EnvironmentError(`cannot program ipsets on ${where}: ${plan.conflicts.join('; ')}`, 'destroy the stale sets (or the node) and sync again');
  }
  await applyIpsetsAndIptables(node, desired, plan, opts.bin, !opts.skipIptables);
  const batch = (op: 'add' | 'del', addrs: string[]) => addrs.map((a) => `addr ${op} ${a}/32 dev ${DUMMY_DEVICE}`).join('\n') + '\n';
  if (plan.addrAdd.length) await node.exec(['ip', '-batch', '-'], { input: batch('add', plan.addrAdd), where });
  if (plan.ipvsadm.length) await node.exec(['ipvsadm', '-R'], { input: plan.ipvsadm.join('\n') + '\n', where });
  if (plan.addrDel.length) await node.exec(['ip', '-force', '-batch', '-'], { input: batch('del', plan.addrDel), where });
  return plan;
}

/** Upstream CleanupLeftovers: IPVS table, kube-ipvs0, jumps and chains, then the sets (iptables references them). */
export async function cleanupIpvs(node: CommandRunner, bin = iptablesBinaries()): Promise<void> {
  const where = node.name;
  const quiet = { allowFailure: true, where };
  await node.exec(['ipvsadm', '-C'], quiet);
  await node.exec(['ip', 'link', 'del', DUMMY_DEVICE], quiet);
  await deleteJumpRules(node, IPVS_JUMPS, bin);
  for (const [table, chains] of [['nat', IPVS_NAT_CHAINS], ['filter', IPVS_FILTER_CHAINS]] as const) {
    for (const c of chains) await node.exec([bin.iptables, '-w', '-t', table, '-F', c], quiet);
    for (const c of chains) await node.exec([bin.iptables, '-w', '-t', table, '-X', c], quiet);
  }
  for (const s of IPSET_INFO) await node.exec(['ipset', 'destroy', s.name], quiet);
}
