// Side effects of nftables mode: feed a transaction to `nft -f -` (optionally
// inside a network namespace via `ip netns exec`), read the table back, remove it.
// Everything that decides *what* to write lives in render/transaction/diff.
//
// nft versions: this host has nft 1.0.6. What our text needs is all there — object
// comments on tables, chains, sets and maps came in 0.9.7, element comments in
// 0.9.7, numeric base-chain priorities work everywhere — and we never write
// `destroy` (nft >= 1.0.8; upstream's full sync uses add+delete instead, as we do).
// Two 1.0.6 differences we do meet: its JSON listing leaves out table and chain
// comments and a set's "dynamic" flag (list-parse.ts), and an nft that rejects
// object comments (older than 0.9.7) is still handled, the way knftables does it:
// probe once with `nft --check`, then strip those comments before applying.
import { run } from '../../util/exec.ts';
import { CommandError } from '../../util/errors.ts';
import { NFT_FAMILY, NFT_TABLE } from './ruleset.ts';
import { parseNftJson, type NftTableView } from './list-parse.ts';
import type { ExistingObjects } from './transaction.ts';

export interface NftTarget {
  /** Network namespace to run nft in (`ip netns exec NS nft …`); the current one if unset. */
  netns?: string;
  /** For error messages ("node-01"); defaults to the namespace. */
  where?: string;
}

export interface NftFeatures {
  version: string;
  /** Comments on table/chain/set/map objects (knftables' noObjectComments inverted). */
  objectComments: boolean;
}

function nftArgv(target: NftTarget, args: string[]): string[] {
  return target.netns ? ['ip', 'netns', 'exec', target.netns, 'nft', ...args] : ['nft', ...args];
}

function whereOf(target: NftTarget): string {
  return target.where ?? (target.netns ? `netns ${target.netns}` : 'host');
}

/**
 * The lines of nft's complaint that matter: each "Error:" line with the command it
 * refers to. nft names the line of its input ("/dev/stdin:12:1-40: Error: …"), so the
 * failing transaction line is added when nft did not echo it.
 */
export function nftErrorLines(stderr: string, input = ''): string[] {
  const inputLines = input.split('\n');
  const out: string[] = [];
  const lines = stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^(?:\/dev\/stdin|-):(\d+):[\d-]+: (Error: .*)$/);
    if (m) {
      out.push(`line ${m[1]}: ${m[2]}`);
      const cmd = inputLines[Number(m[1]) - 1];
      if (cmd !== undefined) out.push(`    ${cmd}`);
    } else if (/^Error: /.test(lines[i])) out.push(lines[i]);
  }
  return out.length ? out : lines.filter((l) => l.trim() !== '');
}

/** Runs one transaction; all of it applies or none. Throws CommandError with nft's error lines. */
export async function applyNft(text: string, target: NftTarget = {}, features?: NftFeatures): Promise<void> {
  if (text.trim() === '') return;
  const input = features && !features.objectComments ? stripObjectComments(text) : text;
  const argv = nftArgv(target, ['-f', '-']);
  const r = await run(argv, { input, allowFailure: true, where: whereOf(target) });
  if (r.code !== 0) throw new CommandError(argv, r.code, nftErrorLines(r.stderr, input).join('\n'), whereOf(target));
}

/** `nft --check`: parses and validates against the kernel without changing anything. */
export async function checkNft(text: string, target: NftTarget = {}): Promise<string[] | undefined> {
  const r = await run(nftArgv(target, ['--check', '-f', '-']), { input: text, allowFailure: true, where: whereOf(target) });
  return r.code === 0 ? undefined : nftErrorLines(r.stderr, text);
}

/** What this nft accepts, probed like knftables.New does. */
export async function probeNft(target: NftTarget = {}): Promise<NftFeatures> {
  const v = await run(nftArgv(target, ['--version']), { where: whereOf(target) });
  const version = v.stdout.match(/v?(\d+\.\d+(?:\.\d+)?)/)?.[1] ?? 'unknown';
  const withComment = await checkNft(`add table ${NFT_FAMILY} svclab-nft-probe { comment "probe" ; }\n`, target);
  if (withComment) {
    const plain = await checkNft(`add table ${NFT_FAMILY} svclab-nft-probe\n`, target);
    if (plain) throw new CommandError(nftArgv(target, ['--check', '-f', '-']), 1, plain.join('\n'), whereOf(target));
  }
  return { version, objectComments: !withComment };
}

/** Drops `comment "…" ;` from add table/chain/set/map property blocks (rule and element comments stay). */
export function stripObjectComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!/^add (table|chain|set|map) /.test(line)) return line;
      return line.replace(/ comment "(?:[^"\\]|\\.)*" ;/, '').replace(/ \{ \}$/, '');
    })
    .join('\n');
}

/** `nft -j list table ip kube-proxy` as text, or undefined when the table does not exist. */
export async function listTableJson(target: NftTarget = {}): Promise<string | undefined> {
  const argv = nftArgv(target, ['-j', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
  const r = await run(argv, { allowFailure: true, where: whereOf(target) });
  if (r.code === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return undefined;
  throw new CommandError(argv, r.code, nftErrorLines(r.stderr).join('\n'), whereOf(target));
}

export async function readTable(target: NftTarget = {}): Promise<NftTableView | undefined> {
  const json = await listTableJson(target);
  return json === undefined ? undefined : parseNftJson(json);
}

/**
 * Chains and sets the kernel has now: the `existing` input of a full-sync plan. Names
 * only, listed per kind like knftables' List: `list table` prints every rule and element
 * (27 s for a 10,000-service table with nft 1.0.6), `list chains` and a terse
 * `list sets` take under a second. nft 1.0.6 lists these per family, not per table.
 */
export async function readExisting(target: NftTarget = {}): Promise<ExistingObjects | undefined> {
  const names = async (kind: 'chains' | 'sets', one: 'chain' | 'set') => {
    const argv = nftArgv(target, ['-j', ...(kind === 'sets' ? ['-t'] : []), 'list', kind, NFT_FAMILY]);
    const r = await run(argv, { allowFailure: true, where: whereOf(target) });
    if (r.code !== 0) throw new CommandError(argv, r.code, nftErrorLines(r.stderr).join('\n'), whereOf(target));
    const items = (JSON.parse(r.stdout) as { nftables?: Array<Record<string, { table?: string; name?: string }>> }).nftables ?? [];
    return items.flatMap((o) => (o[one]?.table === NFT_TABLE && o[one]?.name ? [o[one].name!] : []));
  };
  const chains = await names('chains', 'chain');
  // No chain at all: the table is not there (it always has its base chains).
  if (chains.length === 0) return undefined;
  return { chains, sets: await names('sets', 'set') };
}

/** Upstream CleanupLeftovers: delete the table; a missing table is fine. */
export async function deleteTable(target: NftTarget = {}): Promise<void> {
  const argv = nftArgv(target, ['delete', 'table', NFT_FAMILY, NFT_TABLE]);
  const r = await run(argv, { allowFailure: true, where: whereOf(target) });
  if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
    throw new CommandError(argv, r.code, nftErrorLines(r.stderr).join('\n'), whereOf(target));
  }
}
