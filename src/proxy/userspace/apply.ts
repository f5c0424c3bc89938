// Applying the userspace portal rules: one --noflush restore rewrites the five
// chains (listing a chain flushes it), then the missing jumps from the built-in
// chains are added (upstream's iptablesInit() ensured them on every sync).
import { deleteJumpRules, ensureChainsAndJumps, iptablesBinaries, type CommandRunner } from '../jump-rules.ts';
import { USERSPACE_FILTER_CHAINS, USERSPACE_JUMPS, USERSPACE_NAT_CHAINS } from './render.ts';

export async function applyUserspaceRules(node: CommandRunner, restore: string, bin = iptablesBinaries()): Promise<void> {
  await node.exec([bin.restore, '-w', '--noflush'], { input: restore, where: node.name });
  await ensureChainsAndJumps(node, [], USERSPACE_JUMPS, bin);
}

/** Upstream CleanupLeftovers for the userspace proxier: jumps first, then flush and delete the chains. */
export async function cleanupUserspace(node: CommandRunner, bin = iptablesBinaries()): Promise<void> {
  const quiet = { allowFailure: true, where: node.name };
  await deleteJumpRules(node, USERSPACE_JUMPS, bin);
  for (const [table, chains] of [['nat', USERSPACE_NAT_CHAINS], ['filter', USERSPACE_FILTER_CHAINS]] as const) {
    for (const c of chains) await node.exec([bin.iptables, '-w', '-t', table, '-F', c], quiet);
    for (const c of chains) await node.exec([bin.iptables, '-w', '-t', table, '-X', c], quiet);
  }
}
