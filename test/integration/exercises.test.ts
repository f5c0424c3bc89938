// Every shipped exercise through the real CLI, as CI proves a course: start
// (lab up + break) -> check FAILS (exit 1, a hint per failing check) -> solve
// -> check PASSES (exit 0) -> down, each under a private lab name, one lab at
// a time, down always. Timings are printed per exercise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannotRun, svclab, uniqueLabName, ROOT } from './helpers/svclab-cli.ts';
import { exerciseFiles } from '../../src/exercise/find.ts';

interface CheckJson {
  passed: number;
  failed: number;
  items: { name: string; status: string; message: string }[];
}

const why = cannotRun() ?? (existsSync('/usr/sbin/nft') ? undefined : '/usr/sbin/nft is missing (one exercise switches to nftables mode)');
const files = exerciseFiles(join(ROOT, 'exercises'));

if (why) {
  console.log(`\n  SKIP test/integration/exercises.test.ts: ${why}\n`);
  test.skip('every exercise: start, check fails, solve, check passes, down', () => {});
} else {
  const reports = mkdtempSync(join(tmpdir(), 'svclab-ex-reports-'));
  const timings: string[] = [];
  const t0 = Date.now();

  test('there are at least eight exercises', () => {
    assert.ok(files.length >= 8, `${files.length} exercises in exercises/`);
  });

  for (const [i, file] of files.entries()) {
    const exercise = file.slice(file.lastIndexOf('/') + 1).replace(/\.ya?ml$/, '');
    test(`exercise ${exercise}: start, check fails with hints, solve, check passes, down`, async () => {
      const lab = uniqueLabName(`tex${i}`);
      const as = ['--lab-name', lab];
      const s = Date.now();
      const lap = () => ((Date.now() - s) / 1000).toFixed(1);
      const phases: string[] = [];
      try {
        const start = await svclab(['exercise', 'start', exercise, ...as, '-o', 'json']);
        assert.is(start.code, 0, `start failed:\n${start.stderr}`);
        const started = JSON.parse(start.stdout);
        assert.is(started.lab, lab);
        assert.ok(started.task.length > 40);
        phases.push(`start ${lap()}s`);

        // Before the solution: the checks must fail, each failure carrying its hint.
        const report = join(reports, `${exercise}.junit.xml`);
        const before = await svclab(['exercise', 'check', exercise, ...as, '--timeout', '3', '-o', 'json', '--report', 'junit', report]);
        assert.is(before.code, 1, `check should fail before the solution (exit ${before.code}):\n${before.stdout}\n${before.stderr}`);
        const failed = JSON.parse(before.stdout) as CheckJson;
        assert.ok(failed.failed >= 1);
        for (const item of failed.items.filter((x) => x.status === 'fail')) assert.match(item.message, /\nhint: \S/);
        assert.match(readFileSync(report, 'utf8'), new RegExp(`<testsuite name="${exercise} \\(\\w+\\)"[^>]* failures="${failed.failed}"`));
        phases.push(`check-fails ${lap()}s`);

        const solve = await svclab(['exercise', 'solve', exercise, ...as]);
        assert.is(solve.code, 0, `solve failed:\n${solve.stdout}\n${solve.stderr}`);
        phases.push(`solve ${lap()}s`);

        const after = await svclab(['exercise', 'check', exercise, ...as]);
        assert.is(after.code, 0, `check should pass after the solution:\n${after.stdout}\n${after.stderr}`);
        assert.match(after.stdout, `checks passed: exercise ${exercise} done`);
        assert.not.match(after.stdout, 'hint:');
        phases.push(`check-passes ${lap()}s`);
      } finally {
        const down = await svclab(['down', lab]);
        assert.is(down.code, 0, down.stderr);
        phases.push(`down ${lap()}s`);
        timings.push(`    ${exercise.padEnd(22)} ${phases.join(', ')}`);
      }
    });
  }

  test.after(() => {
    rmSync(reports, { recursive: true, force: true });
    console.log(`\n  exercises (cumulative seconds per phase):\n${timings.join('\n')}\n    total ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  });
}

test.run();
