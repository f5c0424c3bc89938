// Runs every uvu test file (test/**/*.test.ts) in its own tsx process and
// prints one closing line "N passed, N failed, N skipped" for CI.
//   node scripts/test.mjs            all tests
//   node scripts/test.mjs --unit     only tests that need neither root nor a kernel feature
//   node scripts/test.mjs test/proxy only files under these paths
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

let files = walk('test').sort();
if (roots.length) files = files.filter((f) => roots.some((r) => f.startsWith(r.replace(/\/$/, ''))));
// Integration tests live under test/integration and need root + kernel features.
if (unitOnly) files = files.filter((f) => !f.startsWith('test/integration'));
// Integration last: they are slow and unit failures should show first.
files.sort((a, b) => Number(a.startsWith('test/integration')) - Number(b.startsWith('test/integration')));

let passed = 0, failed = 0, skipped = 0;
const broken = [];
for (const file of files) {
  console.log(`\n▶ ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  process.stdout.write(r.stdout);
  const num = (label) => Number((r.stdout.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
  passed += ok;
  skipped += skip;
  const bad = Math.max(0, total - ok - skip);
  failed += bad;
  // A file that ran nothing and skipped nothing (or crashed) is a failure; one that only skipped said why.
  if (r.status !== 0 || bad > 0 || (total === 0 && skip === 0)) {
    if (bad === 0) failed += 1; // a file that crashed counts as one failure
    broken.push(file);
  }
}
if (broken.length) console.log(`\nFailing files:\n  ${broken.join('\n  ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
