// Compares restore payloads the way upstream's proxier_test.go does
// (sortIPTablesRules + assertIPTablesRulesEqual): the order services are
// processed in does not matter, the order of rules inside a chain does.
import { parseIptablesSave, type SavedChain, type SavedDump } from './save-parse.ts';

function chainOrder(a: SavedChain, b: SavedChain): number {
  const rank = (c: SavedChain) => (c.name === 'KUBE-NODEPORTS' ? 0 : c.name === 'KUBE-SERVICES' ? 1 : c.name.startsWith('KUBE-') ? 2 : 3);
  const d = rank(a) - rank(b);
  return d !== 0 ? d : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The service name of a rule: its comment up to the first space or colon. */
function commentService(comment: string | undefined): string | undefined {
  if (comment === undefined) return undefined;
  const i = comment.search(/[ :]/);
  return i < 0 ? comment : comment.slice(0, i);
}

function byServiceName(rules: SavedChain['rules'], lastRule?: (c: string | undefined) => boolean): void {
  const keyed = rules.map((r, i) => ({ r, i, name: commentService(r.comment), last: lastRule?.(r.comment) ?? false }));
  keyed.sort((a, b) => {
    if (a.last !== b.last) return a.last ? 1 : -1;
    // Upstream's comparator says "not less" when either comment is missing; a stable
    // sort then keeps such rules where they were relative to their neighbours.
    if (a.name !== undefined && b.name !== undefined && a.name !== b.name) return a.name < b.name ? -1 : 1;
    return a.i - b.i;
  });
  rules.splice(0, rules.length, ...keyed.map((k) => k.r));
}

/** Upstream sortIPTablesRules on parsed data; returns the dump as text (chain lines, rules, then `-X`). */
export function sortLikeUpstream(text: string): string {
  const dump: SavedDump = parseIptablesSave(text);
  dump.tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const table of dump.tables) {
    table.chains.sort(chainOrder);
    for (const chain of table.chains) {
      if (chain.name === 'KUBE-NODEPORTS' || (chain.name === 'KUBE-SERVICES' && table.name === 'filter')) byServiceName(chain.rules);
      if (chain.name === 'KUBE-SERVICES' && table.name === 'nat') {
        byServiceName(chain.rules, (c) => c !== undefined && c.includes('must be the last rule'));
      }
    }
  }
  const lines: string[] = [];
  for (const table of dump.tables) {
    lines.push(`*${table.name}`);
    for (const c of table.chains) lines.push(`:${c.name} ${c.policy} [${c.packets}:${c.bytes}]`);
    for (const c of table.chains) for (const r of c.rules) lines.push(r.raw);
    for (const c of table.chains) if (c.deleted) lines.push(`-X ${c.name}`);
    lines.push('COMMIT');
  }
  return lines.join('\n') + '\n';
}

export interface Comparison {
  equal: boolean;
  /** Both sides after sorting. */
  a: string;
  b: string;
  /** Line diff of the sorted texts ("-" only in a, "+" only in b); empty when equal. */
  diff: string;
}

/** Sorts both payloads like upstream and compares them line by line. */
export function compareLikeUpstream(a: string, b: string): Comparison {
  const sa = sortLikeUpstream(a);
  const sb = sortLikeUpstream(b);
  return { equal: sa === sb, a: sa, b: sb, diff: sa === sb ? '' : lineDiff(sa.split('\n'), sb.split('\n')) };
}

/** A small LCS diff; payloads in tests are a few hundred lines at most. */
export function lineDiff(a: string[], b: string[]): string {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`- ${a[i++]}`);
    } else {
      out.push(`+ ${b[j++]}`);
    }
  }
  return out.join('\n');
}
