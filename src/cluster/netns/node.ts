// A node of the netns driver: a network namespace on this host. Commands and
// commands enter it with `ip netns exec` (which also bind-mounts
// /etc/netns/<ns>/* over /etc and remounts /sys for that namespace); files are
// the host's, since namespaces share the filesystem. The libvirt driver's
// external client is such a node too (a namespace on the lab bridge).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LabNode } from '../driver.ts';
import { CommandError } from '../../util/errors.ts';
import { run, type ExecOptions, type ExecResult } from '../../util/exec.ts';

/** How long a daemon must stay up before startDaemon calls it started. */
const DAEMON_SETTLE_MS = 100;

export class NetnsNode implements LabNode {
  constructor(
    readonly name: string,
    readonly ip: string,
    /** The network namespace, e.g. "svclab-lab-node-01". */
    readonly netns: string,
  ) {}

  /** The namespace file, as CNI_NETNS and setns(2) want it. */
  get netnsPath(): string {
    return `/run/netns/${this.netns}`;
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const where = opts.where ?? this.name;
    try {
      return await run(['ip', 'netns', 'exec', this.netns, ...argv], { ...opts, where });
    } catch (err) {
      // Name the command the caller asked for, not the `ip netns exec` wrapper.
      if (err instanceof CommandError) throw new CommandError(argv, err.code, err.stderr, where);
      throw err;
    }
  }

  async startDaemon(argv: string[], logFile: string, env?: Record<string, string>): Promise<number> {
    await mkdir(dirname(logFile), { recursive: true });
    const fd = openSync(logFile, 'a');
    let child;
    try {
      // detached: setsid(2), so the daemon has its own session and process
      // group and survives the CLI; unref lets the CLI exit while it runs.
      // nsenter, not `ip netns exec`: the latter gives the daemon a private mount
      // namespace, so pod namespaces a kubelet makes (`ip netns add` mounts them on
      // /run/netns) would be invisible to the host and to `svclab exec`/`down`.
      child = spawn('nsenter', [`--net=${this.netnsPath}`, '--', ...argv], {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...env },
      });
    } finally {
      closeSync(fd);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (err) => reject(new CommandError(argv, null, err.message, this.name)));
      child.once('spawn', () => resolve(child.pid!));
    });
    // nsenter execs the program in place (same pid), so a missing
    // binary or a crash on start shows up as an early failing exit of this pid.
    const early = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), DAEMON_SETTLE_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? (signal ? 128 : 1));
      });
    });
    child.unref();
    if (early !== null && early !== 0) {
      const log = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-6).join('\n');
      throw new CommandError(argv, early, `exited at once; the end of ${logFile}:\n${log}`, this.name);
    }
    return pid;
  }

  async writeFile(path: string, content: string, mode?: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, mode === undefined ? undefined : { mode });
    // writeFile's mode only applies when it creates the file.
    if (mode !== undefined) await chmod(path, mode);
  }

  async readFile(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
