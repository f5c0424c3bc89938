// Runs a matrix for `svclab run labs/ --modes …`: every lab × mode, one at a
// time (the machine is shared): up, scenario, down — down always, also after
// an up that failed half-way. Modes this machine cannot run are skipped with
// the reason; a lab someone already has up is left alone and reported.
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { paint, sym } from '../../util/output.ts';
import { loadLab, type Lab } from '../../lab/load.ts';
import { getDriver } from '../../cluster/drivers.ts';
import { proxyModeError } from '../../lifecycle/preflight.ts';
import { readRecord } from '../../lifecycle/state.ts';
import { takeDown } from '../../lifecycle/reach.ts';
import { LabFileError } from '../../util/errors.ts';
import { runLab, type RunOptions } from '../run-lab.ts';
import { duration, formatMatrix, modesFor, type MatrixCell } from './plan.ts';
import { parseProxyModeList } from '../../k8s/proxy-mode.ts';

/** The lab files of a directory (YAML documents of kind Lab), sorted; other YAML (exercises, objects) is left out. */
export async function labFilesIn(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const f of (await readdir(dir)).sort()) {
    if (!['.yaml', '.yml'].includes(extname(f))) continue;
    const path = join(dir, f);
    let kind: unknown;
    try {
      kind = (parseYaml(await readFile(path, 'utf8')) as { kind?: unknown } | null)?.kind;
    } catch {
      kind = 'Lab'; // let loadLab report the YAML error with its line
    }
    if (kind === 'Lab') files.push(path);
  }
  return files;
}

export async function runMatrix(target: string, opts: RunOptions & { modes?: string }): Promise<MatrixCell[]> {
  const quiet = opts.output === 'json';
  const files = (await stat(target)).isDirectory() ? await labFilesIn(target) : [target];
  if (!files.length) throw new LabFileError('no lab files (kind: Lab) in this directory', target);
  const requested = opts.modes ? parseProxyModeList(opts.modes) : opts.mode ? [opts.mode] : undefined;
  // Every file is read and checked before anything is brought up: a typo fails in a second, not after an hour.
  const labs: Lab[] = [];
  for (const f of files) labs.push(await loadLab(f));
  const plan = labs.flatMap((lab) => modesFor(lab.spec.proxy, requested).map((mode) => ({ lab, mode })));
  const driver = await getDriver(opts.driver);
  const cells: MatrixCell[] = [];
  const t0 = Date.now();
  const err = process.stderr;
  const log = (s: string) => {
    if (!quiet) err.write(`${s}\n`);
  };
  for (const [i, { lab, mode }] of plan.entries()) {
    const head = `[${i + 1}/${plan.length}] ${lab.name} × ${mode}`;
    const cell: MatrixCell = { lab: lab.name, file: lab.file, mode, status: 'passed', seconds: 0 };
    cells.push(cell);
    const why = await proxyModeError(mode, driver.capabilities);
    if (why) {
      cell.status = 'skipped';
      cell.reason = why.message;
      log(`\n${paint('bold', head, err)} ${paint('yellow', 'skipped', err)}: ${why.message}`);
      continue;
    }
    if ((await readRecord(lab.name)) || (await driver.exists(lab.name))) {
      cell.status = 'error';
      cell.reason = `lab ${lab.name} is already up; a matrix run brings each lab up fresh (run \`svclab down ${lab.name}\` first)`;
      log(`\n${paint('bold', head, err)} ${paint('red', cell.reason, err)}`);
      continue;
    }
    log(`\n${paint('bold', `━━ ${head} ━━`, err)}`);
    const c0 = Date.now();
    try {
      cell.result = await runLab(lab.file, { driver: opts.driver, mode, down: true, output: opts.output });
      cell.status = cell.result.failed ? 'failed' : 'passed';
    } catch (e) {
      if (e instanceof LabFileError) throw e;
      cell.status = 'error';
      cell.reason = (e as Error).message;
      log(`${paint('red', '!', err)} ${cell.reason.split('\n')[0]}`);
    } finally {
      // runLab takes the lab down after its scenario; this also covers an up that failed half-way.
      if (await driver.exists(lab.name)) await takeDown(driver, lab.name).catch(() => '');
      cell.seconds = (Date.now() - c0) / 1000;
    }
    const r = cell.result;
    if (!quiet && r) console.log(`${r.failed ? sym.fail() : sym.ok()} ${lab.name} × ${mode}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} in ${duration(cell.seconds)}`);
  }
  if (!quiet) console.log(`\n${paint('bold', 'Matrix')}\n${formatMatrix(cells, (Date.now() - t0) / 1000)}`);
  return cells;
}
