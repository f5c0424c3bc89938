// One lab's run: up if it is not up yet (or attach to it), its scenario, then
// down if asked. Its own module because both `svclab run <lab>` and the matrix
// runner (every lab × mode) run labs this way, and the command imports the
// matrix runner: with runLab inside the command the two imported each other.
import { Progress, paint, sym } from '../util/output.ts';
import { loadLab, type Lab } from '../lab/load.ts';
import { getDriver } from '../cluster/drivers.ts';
import { attachLab, upLab, type RunningLab } from '../lifecycle/up.ts';
import { takeDown } from '../lifecycle/reach.ts';
import { preflightLab } from '../lifecycle/preflight.ts';
import { readRecord } from '../lifecycle/state.ts';
import { scenarioContext } from '../scenario/lab-context.ts';
import { runScenario, type ScenarioResult } from '../scenario/runner.ts';
import { EnvironmentError } from '../util/errors.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';

export interface RunOptions {
  driver: string;
  mode?: ProxyMode;
  /** A matrix: every lab in each of these modes (comma-separated). */
  modes?: string;
  down?: boolean;
  report?: string;
  output?: string;
}

/** Brings the lab up if needed, runs its scenario, optionally tears down. */
export async function runLab(file: string, opts: RunOptions): Promise<ScenarioResult> {
  let lab: Lab = await loadLab(file, { mode: opts.mode });
  const quiet = opts.output === 'json';
  const progress = new Progress(quiet);
  const rec = await readRecord(lab.name);
  // A lab already up (say with `svclab up --mode ipvs`) runs in the mode it is in, unless --mode says otherwise.
  if (rec?.phase === 'up' && !opts.mode && rec.mode !== lab.layout.proxyMode) lab = await loadLab(file, { mode: rec.mode });
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
      if (opts.down && !leftovers) await takeDown(driver, lab.name);
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
      const summary = await takeDown(driver, lab.name);
      if (!quiet) console.log(`${sym.ok()} lab ${lab.name} removed: ${summary} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    }
  }
  return result;
}
