// The `svclab` command. Subcommands are loaded lazily so node daemons started
// from the same bundle don't pay for the CLI. One top-level catch maps typed
// errors to exit codes: 0 ok, 1 an assertion failed, 2 bad input/environment.
import { Command, CommanderError } from 'commander';
import { AssertionFailed, CommandError, EnvironmentError, LabFileError, exitCodeFor } from '../util/errors.ts';
import { paint } from '../util/output.ts';
import { PROXY_MODES } from '../k8s/proxy-mode.ts';

const program = new Command('svclab')
  .description(
    `Labs for Kubernetes service networking: three nodes, a real CNI and our own kube-proxy (${PROXY_MODES.join(', ')}), with scenarios that check the real kernel rules and real traffic.`,
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  svclab up labs/clusterip-db.yaml              bring a lab up (netns driver: seconds, no VM)
  svclab run labs/clusterip-db.yaml             run its scenario (brings it up if needed)
  svclab get svc -o wide                        the lab's Services, kubectl-style
  svclab exec node-01 -- iptables -t nat -L KUBE-SERVICES -n
  svclab proxy render --mode iptables --node-name node-01 --node-ip 192.168.49.2 -f objects.yaml
  svclab down clusterip-db                      remove everything the lab made

Exit codes: 0 ok, 1 an assertion failed, 2 bad lab file or an environment that cannot run it.
Colour follows NO_COLOR / FORCE_COLOR and whether output is a terminal.`,
  );

const lazy = (load: () => Promise<{ default: (cmd: Command) => void }>) => load().then((m) => m.default(program));

async function main(argv: string[]): Promise<number> {
  // Hidden entry points used inside nodes and pods.
  if (argv[2] === 'daemon') {
    const { runDaemon } = await import('./daemon.ts');
    await runDaemon(argv.slice(3));
    return -1; // keep running
  }
  if (argv[2] === 'probe') {
    const { runProbeCommand } = await import('../scenario/probe.ts');
    return runProbeCommand(argv.slice(3));
  }
  await Promise.all([
    lazy(() => import('./commands/up.ts')),
    lazy(() => import('./commands/run.ts')),
    lazy(() => import('./commands/down.ts')),
    lazy(() => import('./commands/kubeconfig.ts')),
    lazy(() => import('./commands/status.ts')),
    lazy(() => import('./commands/get.ts')),
    lazy(() => import('./commands/exec.ts')),
    lazy(() => import('./commands/proxy.ts')),
    lazy(() => import('./commands/schema.ts')),
    lazy(() => import('./commands/trace.ts')),
    lazy(() => import('./commands/apply.ts')),
    lazy(() => import('./commands/delete.ts')),
    lazy(() => import('./commands/expose.ts')),
    lazy(() => import('./commands/create.ts')),
    lazy(() => import('./commands/scale.ts')),
    lazy(() => import('./commands/describe.ts')),
    lazy(() => import('./commands/doctor.ts')),
    lazy(() => import('./commands/exercise.ts')),
    lazy(() => import('./commands/image.ts')),
  ]);
  program.exitOverride();
  // `--report junit FILE` (two arguments) as well as `--report junit:FILE`.
  await program.parseAsync((await import('../scenario/report.ts')).normalizeReportArgs(argv));
  return Number(process.exitCode ?? 0);
}

function report(err: unknown): number {
  const e = err as Error;
  const red = (s: string) => paint('red', s, process.stderr);
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof LabFileError) {
    process.stderr.write(`${red('error:')} ${e.message.startsWith(err.location) ? '' : `${err.location}: `}${e.message}\n`);
  } else if (err instanceof EnvironmentError) {
    process.stderr.write(`${red('error:')} ${e.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
  } else if (err instanceof AssertionFailed) {
    process.stderr.write(`${red('failed:')} ${e.message}\n`);
  } else if (err instanceof CommandError) {
    process.stderr.write(`${red('error:')} ${e.message}\n`);
  } else {
    // Stack traces only when asked for: a user gets the message, a developer SVCLAB_DEBUG=1.
    const debug = process.env.SVCLAB_DEBUG === '1';
    process.stderr.write(debug ? `${red('error:')} ${e?.stack ?? String(err)}\n` : `${red('error:')} ${e?.message ?? String(err)}\n  (SVCLAB_DEBUG=1 shows where it happened)\n`);
  }
  return exitCodeFor(err);
}

main(process.argv).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.exitCode = report(err);
  },
);
