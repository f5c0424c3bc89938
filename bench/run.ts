// `npm run bench -- <sync|modes> [--json] [...]`: one command per benchmark.
// Progress goes to stderr; stdout carries the report (or, with --json, one JSON object).
import { parseArgs } from 'node:util';
import { EnvironmentError } from '../src/util/errors.ts';
import { benchSync, checkTargets, syncJSON, syncReport } from './sync.ts';
import { SYNC_CASES, type SyncCase } from './sync-worker.ts';

const USAGE = `usage: npm run bench -- sync [--json] [--sizes 1000,10000] [--reps 3] [--reps-large 1] [--cases ${SYNC_CASES.join(',')}] [--slow]
       npm run bench -- modes [--json] [--modes iptables,nftables,userspace] [--rounds 4] [--seconds 3] [--transfers 5]
       npm run bench -- compare --against REF [--rounds 1] -- sync [sync flags]   (before = REF, after = this checkout)`;

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
  if (which === 'sync') {
    const cases = list(values.cases, SYNC_CASES) as SyncCase[];
    for (const c of cases) if (!SYNC_CASES.includes(c)) throw new EnvironmentError(`unknown case "${c}"`, USAGE);
    const results = await benchSync({
      sizes: list(values.sizes, ['1000', '10000']).map(Number),
      reps: Number(values.reps ?? 3),
      repsLarge: Number(values['reps-large'] ?? 1),
      cases,
      slow: values.slow ?? false,
      log,
    });
    const checks = checkTargets(results);
    process.stdout.write(values.json ? `${JSON.stringify(syncJSON(results, checks))}\n` : `${syncReport(results, checks)}\n`);
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
