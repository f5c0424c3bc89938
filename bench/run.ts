// `npm run bench -- <sync|tracker|modes> [--json] [...]`: one command per benchmark.
// Progress goes to stderr; stdout carries the report (or, with --json, one JSON object).
import { parseArgs } from 'node:util';
import { EnvironmentError } from '../src/util/errors.ts';
import { benchSync, checkTargets, syncJSON, syncReport } from './sync.ts';
import { SYNC_CASES, type SyncCase } from './sync-worker.ts';
import { benchTracker, trackerJSON, trackerReport } from './tracker.ts';
import { requireRoot } from './netns.ts';

const USAGE = `usage: npm run bench -- sync [--json] [--sizes 1000,10000] [--reps 3] [--reps-large 1] [--cases ${SYNC_CASES.join(',')}] [--slow]
       npm run bench -- tracker [--json] [--sizes 1000,10000] [--rounds 10]
       npm run bench -- modes [--json] [--modes iptables,nftables,userspace] [--rounds 4] [--seconds 3] [--transfers 5]
       npm run bench -- compare --against REF [--rounds 1] -- sync [sync flags]   (before = REF, after = this checkout)`;

/** Change round trips per size in the tracker benchmark (the previous algorithm takes ~0.1 s each way at 10k). */
const TRACKER_ROUNDS = 10;

function list(s: string | undefined, fallback: string[]): string[] {
  return s ? s.split(',').map((x) => x.trim()).filter(Boolean) : fallback;
}

async function main(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which === 'compare') {
    // Everything after `--` is the compared benchmark's own command line.
    const cut = rest.indexOf('--');
    const own = cut < 0 ? rest : rest.slice(0, cut);
    const { values: v } = parseArgs({ args: own, options: { against: { type: 'string' }, rounds: { type: 'string', default: '1' } } });
    if (!v.against || cut < 0) throw new EnvironmentError('compare needs --against REF and the benchmark after --', USAGE);
    const { benchCompare } = await import('./compare.ts');
    const log = (line: string) => process.stderr.write(`# ${line}\n`);
    process.stdout.write(`${await benchCompare({ against: v.against, rounds: Number(v.rounds), bench: rest.slice(cut + 1), log })}\n`);
    return 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      reps: { type: 'string' },
      'reps-large': { type: 'string' },
      cases: { type: 'string' },
      slow: { type: 'boolean', default: false },
      modes: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      transfers: { type: 'string' },
    },
  });
  const log = (line: string) => process.stderr.write(`# ${line}\n`);
  const sizes = list(values.sizes, ['1000', '10000']).map(Number);
  if (which === 'tracker') {
    // Pure computation: runs anywhere, no root.
    const results = await benchTracker({ sizes, rounds: Number(values.rounds ?? TRACKER_ROUNDS), log });
    process.stdout.write(values.json ? `${JSON.stringify(trackerJSON(results))}\n` : `${trackerReport(results)}\n`);
    return 0;
  }
  if (which === 'sync') {
    const cases = list(values.cases, SYNC_CASES) as SyncCase[];
    for (const c of cases) if (!SYNC_CASES.includes(c)) throw new EnvironmentError(`unknown case "${c}"`, USAGE);
    requireRoot('the sync benchmark'); // before the tracker part: fail before spending minutes
    // The tracker's before/after comes first, in the same run, as part of what a sync costs.
    const tracker = await benchTracker({ sizes, rounds: TRACKER_ROUNDS, log });
    const results = await benchSync({
      sizes,
      reps: Number(values.reps ?? 3),
      repsLarge: Number(values['reps-large'] ?? 1),
      cases,
      slow: values.slow ?? false,
      log,
    });
    const checks = checkTargets(results);
    process.stdout.write(values.json
      ? `${JSON.stringify({ ...syncJSON(results, checks), tracker: trackerJSON(tracker) })}\n`
      : `${trackerReport(tracker)}\n\n${syncReport(results, checks)}\n`);
    return 0;
  }
  if (which === 'modes') {
    const { benchModes, modesJSON, modesReport } = await import('./modes.ts');
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const result = await benchModes({
      modes: values.modes?.split(','),
      rounds: num(values.rounds),
      wrkSeconds: num(values.seconds),
      transfers: num(values.transfers),
      log,
    });
    process.stdout.write(values.json ? `${JSON.stringify(modesJSON(result))}\n` : `${modesReport(result)}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.message}${err instanceof EnvironmentError && err.hint ? `\n  ${err.hint}` : ''}\n`);
    process.exit(2);
  },
);
