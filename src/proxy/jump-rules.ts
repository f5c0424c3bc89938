// Jump rules from the built-in chains (PREROUTING, OUTPUT, INPUT, ...) into a
// mode's own chains. Upstream installs them one by one with EnsureRule
// (`iptables -C`, then `-I`/`-A`), never through iptables-restore, because a
// --noflush restore cannot say "insert unless present" for a chain it does not own.
import type { ExecOptions, ExecResult } from '../util/exec.ts';
import { findChain, normalizeRule, type SavedDump } from './iptables/save-parse.ts';

export interface JumpRule {
  table: 'nat' | 'filter';
  from: string;
  to: string;
  /** Matches placed before the comment, e.g. ["-m", "addrtype", "--dst-type", "LOCAL"]. */
  match?: string[];
  comment: string;
  /** Upstream prepends most jumps; the userspace NodePort jumps are appended. */
  position: 'prepend' | 'append';
}

/** Something that runs argv where the rules live (a LabNode, or the local namespace). */
export interface CommandRunner {
  readonly name: string;
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** Which iptables binaries to run: the nft or legacy backend, or whatever `iptables` points to. */
export interface IptablesBinaries {
  iptables: string;
  restore: string;
  save: string;
}

export function iptablesBinaries(backend?: 'nft' | 'legacy'): IptablesBinaries {
  if (!backend) return { iptables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' };
  return { iptables: `iptables-${backend}`, restore: `iptables-${backend}-restore`, save: `iptables-${backend}-save` };
}

/** The rule's arguments after the chain name, as upstream passes them to EnsureRule. */
export function jumpRuleArgs(j: JumpRule): string[] {
  // kubelet's KUBE-FIREWALL jumps, which kube-proxy duplicates, carry no comment.
  return [...(j.match ?? []), ...(j.comment ? ['-m', 'comment', '--comment', j.comment] : []), '-j', j.to];
}

/**
 * The jumps missing from `dump` (an iptables-save of the tables), compared as
 * normalised rules the way `iptables -C` compares: one save instead of a
 * command per jump (each costs ~0.3 s on a TCG VM).
 */
export function jumpsMissingFrom(dump: SavedDump, jumps: readonly JumpRule[]): JumpRule[] {
  return jumps.filter((rule) => {
    const want = normalizeRule(['-A', rule.from, ...jumpRuleArgs(rule)]);
    const from = findChain(dump, rule.table, rule.from);
    return findChain(dump, rule.table, rule.to) === undefined || !(from?.rules.some((r) => normalizeRule(r.raw) === want) ?? false);
  });
}

/** Adds each jump that is not there yet; returns how many were added. */
export async function ensureJumpRules(node: CommandRunner, jumps: readonly JumpRule[], bin = iptablesBinaries()): Promise<number> {
  let added = 0;
  for (const j of jumps) {
    const args = jumpRuleArgs(j);
    const check = await node.exec([bin.iptables, '-w', '-t', j.table, '-C', j.from, ...args], { allowFailure: true, where: node.name });
    if (check.code === 0) continue;
    const op = j.position === 'prepend' ? ['-I', j.from, '1'] : ['-A', j.from];
    await node.exec([bin.iptables, '-w', '-t', j.table, ...op, ...args], { where: node.name });
    added++;
  }
  return added;
}

/** Removes the jumps (cleanup); a missing rule is not an error. */
export async function deleteJumpRules(node: CommandRunner, jumps: readonly JumpRule[], bin = iptablesBinaries()): Promise<void> {
  for (const j of jumps) {
    // A rule may have been added twice by an older run; delete until gone.
    for (let i = 0; i < 4; i++) {
      const r = await node.exec([bin.iptables, '-w', '-t', j.table, '-D', j.from, ...jumpRuleArgs(j)], { allowFailure: true, where: node.name });
      if (r.code !== 0) break;
    }
  }
}
