// `svclab exercise`: the teaching loop. start (lab up + broken), read the task,
// work with the usual verbs, check (each hidden check passed or its hint),
// and for instructors and CI: solve (the reference solution), list.
import type { Command } from 'commander';
import { Progress, paint, sym, table } from '../../util/output.ts';
import { loadExercise, taskText, type Exercise } from '../../exercise/load.ts';
import { exerciseFiles, exercisesDir, findExercise } from '../../exercise/find.ts';
import { answersDir, checkExercise, rebuildExercise, solveExercise, startExercise } from '../../exercise/run.ts';
import { readRecord } from '../../lifecycle/state.ts';
import { writeAnswer } from '../../scenario/assertions/answers.ts';
import { writeReport } from '../../scenario/report.ts';
import type { ItemResult } from '../../scenario/runner.ts';
import { EnvironmentError, LabFileError } from '../../util/errors.ts';
import { parseCidr } from '../../util/cidr.ts';
import { PROXY_MODES, parseProxyMode } from '../../k8s/proxy-mode.ts';
import { relative } from 'node:path';

interface Common {
  labName?: string;
  output?: string;
}

const load = (arg: string, opts: Common) => loadExercise(findExercise(arg), { labName: opts.labName });

/** The command a learner types next, with --lab-name when they gave one. */
const next = (ex: Exercise, verb: string, opts: Common) => `svclab exercise ${verb} ${ex.name}${opts.labName ? ` --lab-name ${opts.labName}` : ''}`;

function printItem(r: ItemResult, hint?: string): void {
  const mark = r.status === 'pass' ? sym.ok() : r.status === 'skip' ? sym.skip() : sym.fail();
  const timing = paint('gray', `(${r.seconds.toFixed(1)}s${r.attempts > 1 ? `, ${r.attempts} tries` : ''})`);
  console.log(`${mark} ${r.kind === 'step' ? `${paint('cyan', 'step')} ` : ''}${r.name} ${timing}`);
  // A failed check's message ends with its hint (for reports); here the hint gets its own line.
  const cut = r.status === 'fail' && hint ? r.message.lastIndexOf('\nhint: ') : -1;
  const message = cut >= 0 ? r.message.slice(0, cut) : r.message;
  if (message) console.log(`    ${paint('gray', message.split('\n').join('\n    '))}`);
  if (r.status === 'fail' && hint) console.log(`    ${paint('yellow', `hint: ${hint}`)}`);
}

export default function register(program: Command): void {
  const cmd = program
    .command('exercise')
    .description('exercises: start one (a lab in a broken or unfinished state), do the task with the usual verbs, check your work')
    .addHelpText('after', `
Examples:
  svclab exercise list
  svclab exercise start selector-mismatch      bring its lab up, break it, print the task
  svclab exercise check selector-mismatch      each check passed, or a hint (exit 0 all passed, 1 not yet)
  svclab exercise solve selector-mismatch      apply the reference solution (instructors, CI)
  svclab down selector-mismatch                remove the lab

Exercises are files (exercises/*.yaml, kind: Exercise); give a name from the list or a path.`);

  cmd
    .command('list')
    .description('the exercises, with their titles and whether their lab is up')
    .option('-o, --output <format>', 'json')
    .action(async (opts: Common) => {
      const rows: { name: string; title: string; lab: string; state: string }[] = [];
      for (const file of exerciseFiles()) {
        try {
          const ex = await loadExercise(file);
          const rec = await readRecord(ex.lab.name);
          rows.push({ name: ex.name, title: ex.title, lab: relative(process.cwd(), ex.lab.file), state: rec ? `${rec.phase} (${rec.mode})` : '-' });
        } catch (e) {
          if (!(e instanceof LabFileError)) throw e;
          rows.push({ name: relative(process.cwd(), file), title: `error: ${e.location}: ${e.message}`, lab: '', state: '' });
        }
      }
      if (opts.output === 'json') console.log(JSON.stringify(rows, null, 2));
      else if (!rows.length) console.log(`no exercises in ${exercisesDir()}`);
      else console.log(table(['NAME', 'LAB', 'STATE', 'TITLE'], rows.map((r) => [r.name, r.lab, r.state, r.title])));
    });

  cmd
    .command('start')
    .description("bring the exercise's lab up in its starting state and print the task")
    .argument('<exercise>', 'exercise name (svclab exercise list) or file')
    .option('--lab-name <name>', "run the lab under this name (default: the exercise's name)")
    .option('--driver <driver>', 'netns or libvirt', 'netns')
    .option('--fresh', 'remove the lab first if it is already up (start over)')
    .option('-o, --output <format>', 'json')
    .action(async (arg: string, opts: Common & { driver: string; fresh?: boolean }) => {
      const ex = await load(arg, opts);
      const progress = new Progress(opts.output === 'json');
      const t0 = Date.now();
      await startExercise(ex, { driver: opts.driver, fresh: opts.fresh, progress });
      const seconds = (Date.now() - t0) / 1000;
      if (opts.output === 'json') {
        console.log(JSON.stringify({ exercise: ex.name, title: ex.title, lab: ex.lab.name, mode: ex.lab.layout.proxyMode, seconds, task: taskText(ex) }, null, 2));
        return;
      }
      console.log(`\n${paint('bold', `Exercise ${ex.name}: ${ex.title}`)}`);
      console.log(paint('gray', `lab ${ex.lab.name} is up (${ex.lab.layout.proxyMode} mode, ${seconds.toFixed(1)}s)\n`));
      console.log(taskText(ex));
      console.log(`\nCheck your work:  ${next(ex, 'check', opts)}`);
      console.log(paint('gray', `Start over:       ${next(ex, 'start', opts)} --fresh\nWhen done:        svclab down ${ex.lab.name}`));
    });

  cmd
    .command('task')
    .description("print an exercise's task again")
    .argument('<exercise>', 'exercise name or file')
    .option('--lab-name <name>', 'the name its lab runs under')
    .action(async (arg: string, opts: Common) => {
      const ex = await load(arg, opts);
      console.log(`${paint('bold', `Exercise ${ex.name}: ${ex.title}`)}\n\n${taskText(ex)}`);
    });

  cmd
    .command('check')
    .description('run the hidden checks against the lab as it is now: each passed, or a hint')
    .argument('<exercise>', 'exercise name or file')
    .option('--lab-name <name>', 'the name its lab runs under (as given to start)')
    .option('--timeout <seconds>', 'retry a failing check for at most this many seconds (rules converge in a second or two)', Number, 10)
    .option('--report <format:file>', 'also write a report: tap:FILE, junit:FILE or json:FILE')
    .option('-o, --output <format>', 'json')
    .addHelpText('after', '\nExit codes: 0 every check passed, 1 some did not, 2 bad exercise file or the lab is not up.')
    .action(async (arg: string, opts: Common & { timeout?: number; report?: string }) => {
      const ex = await load(arg, opts);
      const quiet = opts.output === 'json';
      if (!quiet) console.log(`${paint('bold', `Checking exercise ${ex.name}`)} ${paint('gray', `(lab ${ex.lab.name})`)}`);
      const result = await checkExercise(ex, { progress: new Progress(quiet), timeout: opts.timeout, onResult: quiet ? undefined : printItem });
      if (opts.report) await writeReport(opts.report, [result]);
      if (quiet) console.log(JSON.stringify(result, null, 2));
      else {
        const total = result.items.length;
        console.log(result.failed
          ? `\n${sym.fail()} ${result.passed} of ${total} checks passed: not done yet`
          : `\n${sym.ok()} all ${total} checks passed: exercise ${ex.name} done`);
      }
      process.exitCode = result.failed ? 1 : 0;
    });

  cmd
    .command('solve')
    .description("apply the exercise's reference solution to its lab (for instructors, and CI proving it solvable)")
    .argument('<exercise>', 'exercise name or file')
    .option('--lab-name <name>', 'the name its lab runs under (as given to start)')
    .action(async (arg: string, opts: Common) => {
      const ex = await load(arg, opts);
      const result = await solveExercise(ex, { progress: new Progress() });
      for (const r of result.items) printItem(r);
      if (result.failed) console.log(`\n${sym.fail()} the solution did not apply`);
      else console.log(`\n${sym.ok()} solution applied; now: ${next(ex, 'check', opts)}`);
      process.exitCode = result.failed ? 1 : 0;
    });

  cmd
    .command('answer')
    .description('write an answer the checks read (a finding such as the service CIDR)')
    .argument('<exercise>', 'exercise name or file')
    .argument('<key>', 'what the answer is about, as the task names it (service-cidr, proxy-mode, ...)')
    .argument('<value...>', 'the answer')
    .option('--lab-name <name>', 'the name its lab runs under')
    .action(async (arg: string, key: string, value: string[], opts: Common) => {
      const ex = await load(arg, opts);
      const rec = await readRecord(ex.lab.name);
      if (!rec) {
        throw new EnvironmentError(`exercise ${ex.name} is not started`, `start it with \`${next(ex, 'start', opts)}\``);
      }
      let path: string;
      try {
        path = await writeAnswer(answersDir(ex.lab.name), key, value.join(' '));
      } catch (e) {
        throw new LabFileError((e as Error).message);
      }
      console.log(`${sym.ok()} answer ${key} = ${value.join(' ')} ${paint('gray', `(${path})`)}`);
    });

  cmd
    .command('rebuild')
    .description("rebuild the exercise's lab with other ranges or another proxy mode (a cluster's ranges are fixed when it is created)")
    .argument('<exercise>', 'exercise name or file')
    .option('--service-cidr <cidr>', 'the new service CIDR (--service-cluster-ip-range)')
    .option('--pod-cidr <cidr>', 'the new pod CIDR (--cluster-cidr)')
    .option('--mode <mode>', `the new proxy mode: ${PROXY_MODES.join(', ')}`)
    .option('--lab-name <name>', 'the name its lab runs under')
    .addHelpText('after', '\nThe lab is torn down and brought up again: its manifests are applied anew; objects you added (and answers) are gone, as in a new cluster.')
    .action(async (arg: string, opts: Common & { serviceCidr?: string; podCidr?: string; mode?: string }) => {
      const ex = await load(arg, opts);
      const change = rebuildChange(opts);
      const t0 = Date.now();
      const running = await rebuildExercise(ex, change, { progress: new Progress() });
      const l = running.record.layout;
      console.log(`\n${sym.ok()} lab ${l.name} rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)}s: service CIDR ${l.serviceCIDR}, pod CIDR ${l.podCIDR}, ${running.record.mode} mode`);
    });
}

/** The rebuild flags as a reconfigure change, checked like a lab file's would be. */
function rebuildChange(opts: { serviceCidr?: string; podCidr?: string; mode?: string }) {
  if (!opts.serviceCidr && !opts.podCidr && !opts.mode) throw new LabFileError('say what to change: --service-cidr, --pod-cidr and/or --mode');
  const mode = opts.mode === undefined ? undefined : parseProxyMode(opts.mode);
  for (const [flag, v] of [['--service-cidr', opts.serviceCidr], ['--pod-cidr', opts.podCidr]] as const) {
    if (v === undefined) continue;
    try {
      parseCidr(v);
    } catch (e) {
      throw new LabFileError(`${flag} ${v}: ${(e as Error).message}`);
    }
  }
  const cluster = { ...(opts.serviceCidr ? { serviceCIDR: opts.serviceCidr } : {}), ...(opts.podCidr ? { podCIDR: opts.podCidr } : {}) };
  return { cluster: Object.keys(cluster).length ? cluster : undefined, proxy: mode ? { mode } : undefined };
}
