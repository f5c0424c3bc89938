import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { Progress, paint, sym } from '../output.ts';
import { loadLab, type Lab } from '../../lab/load.ts';
import { getDriver } from '../../cluster/drivers.ts';
import { attachLab, upLab, type RunningLab } from '../../lifecycle/up.ts';
import { preflightLab } from '../../lifecycle/preflight.ts';
import { readRecord } from '../../lifecycle/state.ts';
import { scenarioContext } from '../../lifecycle/rebuild.ts';
import { runScenario, type ScenarioResult } from '../../scenario/runner.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { writeReport } from '../../scenario/report.ts';

export interface RunOptions {
  driver: string;
  mode?: string;
  /** A matrix: every lab in each of these modes (comma-separated). */
  modes?: string;
  down?: boolean;
  report?: string;
  output?: string;
}

/** Brings the lab up if needed, runs its scenario, optionally tears down. */
export async function runLab(file: string, opts: RunOptions): Promise<ScenarioResult> {
  let lab: Lab = await loadLab(file, { mode: opts.mode as never });
  const quiet = opts.output === 'json';
  const progress = new Progress(quiet);
  const rec = await readRecord(lab.name);
  // A lab already up (say with `svclab up --mode ipvs`) runs in the mode it is in, unless --mode says otherwise.
  if (rec?.phase === 'up' && !opts.mode && rec.mode !== lab.layout.proxyMode) lab = await loadLab(file, { mode: rec.mode as never });
  let running: RunningLab;
  const driver = await getDriver(rec?.driver ?? opts.driver);
  if (rec?.phase === 'up') {
    if (rec.mode !== lab.layout.proxyMode) {
      throw new EnvironmentError(`lab ${lab.name} is up in ${rec.mode} mode, not ${lab.layout.proxyMode}`, `run \`svclab down ${lab.name}\` first, or leave out --mode to run it in ${rec.mode} mode`);
    }
    running = await attachLab(rec, driver);
  } else {
    await preflightLab(lab, driver);
    const leftovers = Boolean(rec) || (await driver.exists(lab.name));
    try {
      running = await upLab(lab, driver, progress);
    } catch (err) {
      // --down promises this run leaves nothing behind, also when up fails half-way.
      if (opts.down && !leftovers) await driver.down(lab.name);
      throw err;
    }
  }
  if (!quiet) console.log(`\n${paint('bold', `Scenario of ${lab.name}`)} (${running.record.mode} mode, ${driver.name} driver)`);
  let result: ScenarioResult;
  try {
    result = await runScenario(
      scenarioContext(lab, running, progress),
      lab.spec.scenario,
      { lab: lab.name, labFile: lab.file, quiet },
    );
    result.setupSeconds = progress.timings.reduce((a, t) => a + t.seconds, 0);
    // The phase times of the up this run did (also in -o json: VM runs are worth timing).
    if (progress.timings.length) Object.assign(result, { phases: progress.timings });
  } finally {
    if (opts.down) {
      const t0 = Date.now();
      const summary = await driver.down(lab.name);
      if (!quiet) console.log(`${sym.ok()} lab ${lab.name} removed: ${summary} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    }
  }
  return result;
}

export default function register(program: Command): void {
  program
    .command('run')
    .description("run a lab's scenario: steps and assertions against the real kernel and real traffic (brings the lab up if needed)")
    .argument('<lab>', 'lab file (labs/clusterip-db.yaml), or a directory: every lab in it, in each of its modes')
    .option('--driver <driver>', 'netns or libvirt (when the lab is not up yet)', 'netns')
    .option('--mode <mode>', "override the lab's proxy mode: iptables, nftables, ipvs, userspace")
    .option('--modes <list>', "a matrix: run in each of these modes, e.g. iptables,nftables (default for a directory: each lab's proxy.modes, else its mode)")
    .option('--down', 'remove the lab when the scenario is done')
    .option('--report <format:file>', 'also write a report: tap:FILE, junit:FILE or json:FILE')
    .option('-o, --output <format>', 'json: print the result as JSON instead of lines')
    .addHelpText(
      'after',
      `
A directory, or --modes, runs a matrix: each lab in each mode, one at a time (up, scenario, down),
skipping with the reason a mode this machine cannot run (IPVS without the kernel's ip_vs), then a
lab × mode summary; --report covers every cell.
  svclab run labs/
  svclab run labs/ --modes iptables,nftables --report junit reports/labs.xml

Exit codes: 0 every assertion passed (in every cell that ran), 1 some failed, 2 bad lab file or environment.`,
    )
    .action(async (file: string, opts: RunOptions) => {
      if (opts.modes || (await stat(file).catch(() => undefined))?.isDirectory()) {
        const { runMatrix } = await import('../matrix-run.ts');
        const { cellResult, matrixExitCode } = await import('../run-matrix.ts');
        const cells = await runMatrix(file, opts);
        if (opts.report) await writeReport(opts.report, cells.map(cellResult));
        if (opts.output === 'json') console.log(JSON.stringify({ passed: matrixExitCode(cells) === 0, cells: cells.map((c) => ({ ...c, result: cellResult(c) })) }, null, 2));
        process.exitCode = matrixExitCode(cells);
        return;
      }
      const result = await runLab(file, opts);
      if (opts.report) await writeReport(opts.report, [result]);
      if (opts.output === 'json') console.log(JSON.stringify(result, null, 2));
      else {
        const mark = result.failed ? sym.fail() : sym.ok();
        console.log(`\n${mark} ${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''} in ${result.seconds.toFixed(1)}s`);
      }
      process.exitCode = result.failed ? 1 : 0;
    });
}
