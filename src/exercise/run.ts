// Running an exercise against its lab: start (up, then the break steps),
// check (the hidden checks, one result each, with the hint when it fails),
// solve (the reference solution's steps), rebuild (a new cluster with other
// ranges or mode, as a learner's fix may need). Output is the caller's.
import { getDriver } from '../cluster/drivers.ts';
import type { Progress } from '../util/output.ts';
import { reconfigureLab, type ReconfigureChange } from '../lab/reconfigure.ts';
import { preflightLab } from '../lifecycle/preflight.ts';
import { rebuildLab } from '../lifecycle/rebuild.ts';
import { answersDir, scenarioContext } from '../scenario/lab-context.ts';
import { readRecord } from '../lifecycle/state.ts';
import { attachLab, upLab, type RunningLab } from '../lifecycle/up.ts';
import { takeDown } from '../lifecycle/reach.ts';
import { runScenario, type ItemResult, type ScenarioResult } from '../scenario/runner.ts';
import { EnvironmentError } from '../util/errors.ts';
import type { Exercise } from './load.ts';

export interface StartOptions {
  driver: string;
  /** Remove a lab of the same name first (start over). */
  fresh?: boolean;
  progress: Progress;
}

/** Brings the exercise's lab up and breaks it; returns the break steps' result. */
export async function startExercise(ex: Exercise, opts: StartOptions): Promise<ScenarioResult> {
  const name = ex.lab.name;
  const driver = await getDriver(opts.driver);
  const rec = await readRecord(name);
  if (rec || (await driver.exists(name))) {
    if (!opts.fresh) {
      throw new EnvironmentError(`exercise ${ex.name} is already started (lab ${name} is ${rec?.phase ?? 'half-made'})`,
        `check your work with \`svclab exercise check ${ex.name}\`, or start over with \`svclab exercise start ${ex.name} --fresh\``);
    }
    opts.progress.note(`lab ${name} removed: ${await takeDown(rec ? await getDriver(rec.driver) : driver, name)}`);
  }
  await preflightLab(ex.lab, driver);
  const running = await upLab(ex.lab, driver, opts.progress);
  const result = await runScenario(scenarioContext(ex.lab, running, opts.progress), ex.breakSteps, { lab: ex.name, labFile: ex.file, quiet: true });
  const failed = result.items.find((i) => i.status === 'fail');
  if (failed) {
    throw new EnvironmentError(`the exercise's break step "${failed.name}" failed: ${failed.message}`, `the lab ${name} is left up for a look; remove it with \`svclab down ${name}\``);
  }
  return result;
}

/** The running lab of an exercise, or a clear error saying how to start it. */
export async function attachExercise(ex: Exercise): Promise<RunningLab> {
  const rec = await readRecord(ex.lab.name);
  if (!rec || rec.phase !== 'up') {
    throw new EnvironmentError(`exercise ${ex.name} is not started (lab ${ex.lab.name} is ${rec ? rec.phase : 'not up'})`, `start it with \`svclab exercise start ${ex.name}\``);
  }
  return attachLab(rec, await getDriver(rec.driver));
}

export interface CheckOptions {
  progress: Progress;
  /** Give up on a failing check after this many seconds (each check's own timeout if smaller). */
  timeout?: number;
  /** Called as each check finishes. */
  onResult?: (r: ItemResult, hint: string) => void;
}

/**
 * Runs every check against the lab as it is now. A failing check's message
 * ends with its hint. The result reads like a scenario's (for --report).
 */
export async function checkExercise(ex: Exercise, opts: CheckOptions): Promise<ScenarioResult> {
  const running = await attachExercise(ex);
  const ctx = scenarioContext(ex.lab, running, opts.progress);
  const t0 = Date.now();
  const items: ItemResult[] = [];
  for (const [index, check] of ex.checks.entries()) {
    const { hint, ...item } = check;
    const timeout = Math.min(item.timeout, opts.timeout ?? item.timeout);
    // One check at a time, so each is told as it finishes; a failed check does not stop the others.
    const [r] = (await runScenario(ctx, [{ ...item, timeout }], { lab: ex.name, labFile: ex.file, quiet: true })).items;
    const result = { ...r, index, message: r.status === 'fail' ? `${r.message}\nhint: ${hint}` : r.message };
    items.push(result);
    opts.onResult?.(result, hint);
  }
  const count = (s: ItemResult['status']) => items.filter((i) => i.status === s).length;
  return { lab: ex.name, mode: ctx.mode, items, passed: count('pass'), failed: count('fail'), skipped: count('skip'), seconds: (Date.now() - t0) / 1000 };
}

/** Applies the reference solution to the running lab. */
export async function solveExercise(ex: Exercise, opts: { progress: Progress }): Promise<ScenarioResult> {
  const running = await attachExercise(ex);
  return runScenario(scenarioContext(ex.lab, running, opts.progress), ex.solution, { lab: ex.name, labFile: ex.file, quiet: true });
}

/**
 * A learner's rebuild: the exercise's lab torn down and brought up with other
 * ranges or another mode (a cluster's ranges are fixed at creation). Objects
 * the learner added are gone, like in a new cluster; answers too.
 */
export async function rebuildExercise(ex: Exercise, change: ReconfigureChange, opts: { progress: Progress }): Promise<RunningLab> {
  const running = await attachExercise(ex);
  // Start from the lab as it runs (an earlier rebuild's ranges and mode), not as the file says.
  const { layout, mode } = running.record;
  const now = reconfigureLab(ex.lab, { cluster: { serviceCIDR: layout.serviceCIDR, podCIDR: layout.podCIDR }, proxy: { mode } });
  return (await rebuildLab(now, change, running.driver, opts.progress)).running;
}

export { answersDir };
