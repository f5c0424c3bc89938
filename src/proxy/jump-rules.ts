// Jump rules from the built-in chains (PREROUTING, OUTPUT, INPUT, ...) into a
// mode's own chains. Upstream installs them one by one with EnsureRule
// (`iptables -C`, then `-I`/`-A`), because a --noflush restore cannot say
// "insert unless present"; here one iptables-save says what is missing and one
// restore adds exactly that (the rules end up the same).
import type { ExecOptions, ExecResult } from '../util/exec.ts';
import { findChain, normalizeRule, parseIptablesSave, type SavedDump } from './iptables/save-parse.ts';

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

/** An argument as iptables-restore reads it: quoted when it has blanks or quotes. */
function restoreArg(a: string): string {
  return /[\s"']/.test(a) ? `"${a.replace(/(["\\])/g, '\\$1')}"` : a;
}

/**
 * Makes the missing chains and jumps with one save and one `--noflush`
 * restore. A --noflush restore cannot say "insert unless present", so the
 * save decides what is missing, and only missing chains are declared (a
 * declared chain is flushed). Upstream runs -N/-C/-I per jump instead: ~36
 * commands, which took a TCG VM's kube-proxy ~40 s before its first sync.
 * Returns how many jumps were added.
 */
export async function ensureChainsAndJumps(
  node: CommandRunner, chains: readonly { table: string; chain: string }[], jumps: readonly JumpRule[],
  bin = iptablesBinaries(), dump?: SavedDump,
): Promise<number> {
  const where = node.name;
  const saved = dump ?? parseIptablesSave((await node.exec([bin.save], { where })).stdout);
  const wantChains = [...chains, ...jumps.map((j) => ({ table: j.table, chain: j.to }))];
  const byTable = new Map<string, { chains: Set<string>; rules: string[] }>();
  const table = (t: string) => byTable.get(t) ?? byTable.set(t, { chains: new Set(), rules: [] }).get(t)!;
  for (const c of wantChains) if (!findChain(saved, c.table, c.chain)) table(c.table).chains.add(c.chain);
  const missing = jumpsMissingFrom(saved, jumps);
  for (const j of missing) {
    const op = j.position === 'prepend' ? `-I ${j.from} 1` : `-A ${j.from}`;
    table(j.table).rules.push(`${op} ${jumpRuleArgs(j).map(restoreArg).join(' ')}`);
  }
  if (byTable.size === 0) return 0;
  const lines: string[] = [];
  for (const [t, { chains: cs, rules }] of byTable) lines.push(`*${t}`, ...[...cs].map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT');
  await node.exec([bin.restore, '-w', '--noflush'], { input: lines.join('\n') + '\n', where });
  return missing.length;
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
