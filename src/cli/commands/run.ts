import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { sym } from '../../util/output.ts';
import { writeReport } from '../../scenario/report.ts';
import { PROXY_MODES, parseProxyMode } from '../../k8s/proxy-mode.ts';
import { runLab, type RunOptions } from '../run-lab.ts';

export default function register(program: Command): void {
  program
    .command('run')
    .description("run a lab's scenario: steps and assertions against the real kernel and real traffic (brings the lab up if needed)")
    .argument('<lab>', 'lab file (labs/clusterip-db.yaml), or a directory: every lab in it, in each of its modes')
    .option('--driver <driver>', 'netns or libvirt (when the lab is not up yet)', 'netns')
    .option('--mode <mode>', `override the lab's proxy mode: ${PROXY_MODES.join(', ')}`)
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
    .action(async (file: string, flags: Omit<RunOptions, 'mode'> & { mode?: string }) => {
      const opts: RunOptions = { ...flags, mode: flags.mode === undefined ? undefined : parseProxyMode(flags.mode) };
      if (opts.modes || (await stat(file).catch(() => undefined))?.isDirectory()) {
        const { runMatrix } = await import('../matrix/run.ts');
        const { cellResult, matrixExitCode } = await import('../matrix/plan.ts');
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
