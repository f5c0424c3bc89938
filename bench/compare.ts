// `npm run bench -- compare --against REF [--rounds N] -- sync [sync flags]`: the same
// benchmark run from two trees in one run — this checkout ("after") and a git
// revision ("before", checked out into a throwaway worktree) — taking turns, so
// drifting load on this shared machine hits both. Prints after/before per figure.
// Used for refactors that must not slow a sync down (issue 11).
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../src/util/exec.ts';
import { EnvironmentError } from '../src/util/errors.ts';
import { median, ms, ratio } from './stats.ts';

export interface CompareOptions {
  against: string;
  rounds: number;
  /** The benchmark's own argv, e.g. ['sync', '--sizes', '1000,10000']. */
  bench: string[];
  log: (line: string) => void;
}

/** One figure of a sync run: "10000 nftables change sync" → seconds. */
type Figures = Map<string, number>;

interface SyncJSON {
  results: {
    services: number;
    render: Record<string, { full: number; change: number }>;
    cases: Record<string, { full: { sync: number }; change: { sync: number } }>;
  }[];
}

function syncFigures(json: SyncJSON): Figures {
  const out: Figures = new Map();
  for (const r of json.results) {
    for (const [mode, v] of Object.entries(r.render)) {
      out.set(`${r.services} ${mode} render full`, v.full);
      out.set(`${r.services} ${mode} render change`, v.change);
    }
    for (const [name, c] of Object.entries(r.cases)) {
      out.set(`${r.services} ${name} full sync`, c.full.sync);
      out.set(`${r.services} ${name} change sync`, c.change.sync);
    }
  }
  return out;
}

async function benchIn(tree: string, argv: string[], log: (l: string) => void): Promise<Figures> {
  const t0 = Date.now();
  const r = await run([process.execPath, '--import', 'tsx', join(tree, 'bench/run.ts'), ...argv, '--json'], {
    cwd: tree,
    env: { NODE_NO_WARNINGS: '1' },
    timeoutMs: 7_200_000,
    where: tree,
  });
  log(`  ${tree}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return syncFigures(JSON.parse(r.stdout.trim().split('\n').pop()!) as SyncJSON);
}

export async function benchCompare(opts: CompareOptions): Promise<string> {
  if (opts.bench[0] !== 'sync') throw new EnvironmentError('compare runs the sync benchmark only', 'npm run bench -- compare --against HEAD~5 -- sync --sizes 1000,10000');
  const here = resolve('.');
  const sha = (await run(['git', 'rev-parse', '--verify', `${opts.against}^{commit}`], { cwd: here })).stdout.trim();
  const base = mkdtempSync(join(tmpdir(), 'svclab-bench-before-'));
  const before = join(base, 'tree');
  await run(['git', 'worktree', 'add', '--detach', before, sha], { cwd: here });
  try {
    symlinkSync(join(here, 'node_modules'), join(before, 'node_modules'));
    const samples = { before: [] as Figures[], after: [] as Figures[] };
    for (let i = 0; i < opts.rounds; i++) {
      // Take turns going first.
      const order: Array<'before' | 'after'> = i % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      for (const which of order) {
        opts.log(`round ${i + 1}/${opts.rounds}: ${which} (${which === 'before' ? sha.slice(0, 8) : 'this checkout'})`);
        samples[which].push(await benchIn(which === 'before' ? before : here, opts.bench, opts.log));
      }
    }
    const keys = [...samples.after[0].keys()].filter((k) => samples.before[0].has(k));
    const med = (set: Figures[], k: string) => median(set.map((f) => f.get(k)!));
    const lines = [`after = this checkout, before = ${opts.against} (${sha.slice(0, 8)}); medians of ${opts.rounds} round(s), taking turns`, '', '| figure | before | after | after / before |', '| --- | --- | --- | --- |'];
    for (const k of keys) {
      const b = med(samples.before, k);
      const a = med(samples.after, k);
      lines.push(`| ${k} | ${ms(b)} | ${ms(a)} | ${ratio(a / b)} |`);
    }
    return lines.join('\n');
  } finally {
    await run(['git', 'worktree', 'remove', '--force', before], { cwd: here, allowFailure: true });
    rmSync(base, { recursive: true, force: true });
  }
}
