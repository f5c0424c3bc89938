// Container processes: prepare a program's files, start it detached in the
// pod's namespaces with the pod name as hostname, tell whether it still runs,
// stop it. A container is one process (and its process group), not an image.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../util/exec.ts';
import type { ProgramPlan } from './programs.ts';
import { IMAGE_MARIADB_TEMPLATE, mariadbInstallArgv } from '../image/mariadb.ts';
import { netnsPath, readPidFiles } from './pod-paths.ts';

/**
 * Sets the hostname in the fresh UTS namespace, then becomes the program.
 * Fixed text: the hostname and argv arrive as positional parameters, never
 * spliced into the script.
 */
export const HOSTNAME_SCRIPT = 'hostname "$1" && shift && exec "$@"';

/**
 * ip netns exec: network namespace plus a mount namespace where
 * /etc/netns/<netns>/* covers /etc/*; unshare --uts: the pod's own hostname.
 * Every step execs, so the pid we get is the program's.
 */
export function containerLaunchArgv(netns: string, hostname: string, argv: string[]): string[] {
  if (argv.length === 0) throw new Error('a container needs a command');
  return ['ip', 'netns', 'exec', netns, 'unshare', '--uts', '--', 'sh', '-c', HOSTNAME_SCRIPT, 'pod', hostname, ...argv];
}

export interface PrepareTimings {
  /** mariadb-install-db for the shared template (only the first MariaDB pod pays it). */
  templateMs?: number;
  /** Copying the template into this container's datadir. */
  copyMs?: number;
}

/** Makes the plan's directories and files, and the MariaDB datadir if it has none yet. */
export async function prepareContainer(plan: ProgramPlan, cacheDir: string): Promise<PrepareTimings> {
  for (const d of plan.dirs) await mkdir(d, { recursive: true });
  for (const f of plan.files) await writeFile(f.path, f.content, { mode: f.mode ?? 0o644 });
  return plan.mariadbDatadir ? ensureMariadbDatadir(plan.mariadbDatadir, cacheDir) : {};
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const templates = new Map<string, Promise<number>>();

/**
 * mariadb-install-db takes about a second (several on a busy box) and writes
 * ~20 MB; it runs once per lab into <cacheDir>/mariadb-datadir, and every
 * MariaDB container gets a copy (tens of ms). A restarted container keeps its
 * datadir, as a pod keeps its emptyDir. The kubelets of all nodes share the
 * state dir: a lock file lets one of them build while the others wait, and
 * both the build and each copy land by rename, so a crash leaves no half.
 */
export async function ensureMariadbDatadir(datadir: string, cacheDir: string, baked = IMAGE_MARIADB_TEMPLATE): Promise<PrepareTimings> {
  if (await exists(join(datadir, 'mysql'))) return {};
  const template = (await exists(join(baked, 'mysql'))) ? baked : join(cacheDir, 'mariadb-datadir');
  let templateMs: number | undefined;
  if (!(await exists(join(template, 'mysql')))) {
    if (!templates.has(template)) templates.set(template, buildTemplateOnce(template).finally(() => templates.delete(template)));
    templateMs = await templates.get(template)!;
  }
  const t0 = Date.now();
  const tmp = `${datadir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  // coreutils, not fs.cp: Node's recursive copy of the ~200 files took 16 s on a TCG VM, cp -a 0.7 s.
  await mkdir(dirname(tmp), { recursive: true });
  await run(['cp', '-a', template, tmp], { where: 'mariadb datadir copy' });
  await rm(datadir, { recursive: true, force: true });
  await rename(tmp, datadir);
  return { templateMs, copyMs: Date.now() - t0 };
}

/** Builds the template unless another process is building it; resolves when it exists (ms waited or spent). */
async function buildTemplateOnce(template: string, timeoutMs = 180_000): Promise<number> {
  const t0 = Date.now();
  const lock = `${template}.lock`;
  await mkdir(dirname(template), { recursive: true });
  while (!(await exists(join(template, 'mysql')))) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (fd !== undefined) {
      try {
        writeFileSync(fd, `${process.pid}\n`);
        closeSync(fd);
        await buildTemplate(template);
      } finally {
        await rm(lock, { force: true });
      }
      break;
    }
    // Someone else builds; a lock whose owner died is taken over.
    let owner = 0;
    try {
      owner = Number(readFileSync(lock, 'utf8').trim() || 0);
    } catch {
      /* released meanwhile: look again */
    }
    if (owner && !processAlive(owner)) await rm(lock, { force: true });
    else if (Date.now() - t0 > timeoutMs) throw new Error(`the MariaDB template at ${template} did not appear within ${timeoutMs / 1000}s (lock held by pid ${owner})`);
    else await sleep(200);
  }
  return Date.now() - t0;
}

async function buildTemplate(template: string): Promise<void> {
  const tmp = `${template}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await run(mariadbInstallArgv(tmp), { timeoutMs: 180_000, where: 'mariadb-install-db' });
    await rm(template, { recursive: true, force: true });
    await rename(tmp, template);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface StartedContainer {
  pid: number;
  child: ChildProcess;
}

/**
 * Starts the program detached (its own session and process group, so it
 * outlives a kubelet restart and a group signal reaches its children),
 * stdout and stderr appended to the container log, pid written to pidFile.
 */
export function startContainer(o: {
  netns: string;
  hostname: string;
  plan: ProgramPlan;
  cwd: string;
  logFile: string;
  pidFile: string;
}): Promise<StartedContainer> {
  const argv = containerLaunchArgv(o.netns, o.hostname, o.plan.argv);
  const fd = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: o.plan.env, cwd: o.cwd });
  } finally {
    closeSync(fd);
  }
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${o.plan.argv[0]}: ${err.message}`)));
    child.once('spawn', () => {
      writeFileSync(o.pidFile, `${child.pid}\n`);
      child.unref();
      resolve({ pid: child.pid!, child });
    });
  });
}

/**
 * Is pid a live (not zombie) process inside the pod's network namespace?
 * The netns check guards against a recycled pid after a kubelet restart.
 */
export function processAlive(pid: number, netnsIno?: number): boolean {
  let state: string;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return false;
  }
  if (state === 'Z' || state === 'X') return false;
  if (netnsIno === undefined) return true;
  try {
    return statSync(`/proc/${pid}/ns/net`).ino === netnsIno;
  } catch {
    return false;
  }
}

/**
 * What a container left running after its main process ended: the
 * processes of its process group or session (startContainer made the main
 * process a session leader) that still live in the pod's netns. With
 * upstream's runtimes these cannot outlive the container — when the init
 * process of a container's PID namespace dies the kernel kills the rest —
 * but here an nginx worker survives its SIGKILLed master, keeps the
 * listening socket, answers readiness probes and makes every restarted
 * master fail with "bind() ... Address already in use". The group id
 * cannot name an unrelated process group: Linux does not hand out a pid
 * while a process group still carries it.
 */
export function containerLeftovers(pid: number, netnsIno: number): number[] {
  const left: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "(comm)": state ppid pgrp session …
      const [state, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X' || (Number(pgrp) !== pid && Number(session) !== pid)) continue;
      if (statSync(`/proc/${entry}/ns/net`).ino === netnsIno) left.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return left;
}

/** SIGKILLs a dead container's leftovers (containerLeftovers) and waits until they are gone; returns their pids. */
export async function killContainerLeftovers(pid: number, netnsIno: number): Promise<number[]> {
  const left = containerLeftovers(pid, netnsIno);
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const hard = Date.now() + 5000;
  while (left.some((p) => processAlive(p, netnsIno)) && Date.now() < hard) await sleep(50);
  return left;
}

/** Every process whose network namespace is the one with this inode (what runs in a pod). */
export function processesInNetns(netnsIno: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (statSync(`/proc/${entry}/ns/net`).ino === netnsIno) pids.push(Number(entry));
    } catch {
      /* gone meanwhile, or a kernel thread */
    }
  }
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // The whole process group first (the container started it with setsid), then the pid itself.
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * SIGTERM, up to graceMs for the processes to leave, then SIGKILL — the
 * kubelet's killContainer with its grace period. Resolves true if it had
 * to kill.
 */
export async function stopProcesses(pids: number[], graceMs: number, netnsIno?: number): Promise<boolean> {
  const alive = () => pids.filter((p) => processAlive(p, netnsIno));
  for (const p of alive()) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive().length && Date.now() < deadline) await sleep(100);
  const left = alive();
  if (!left.length) return false;
  for (const p of left) signal(p, 'SIGKILL');
  const hard = Date.now() + 5000;
  while (alive().length && Date.now() < hard) await sleep(50);
  return true;
}

/**
 * Kills what runs in a pod sandbox before it is removed. While the netns is
 * mounted, everything inside it goes (an escaped child, a leftover exec).
 * If the mount is gone but the recorded container pids still live in the
 * recorded namespace, they go too: they would keep the veth and the pod IP
 * answering after the IP returns to the pool. (Only recorded pids: a freed
 * namespace's inode number can be reused by another pod's.)
 */
export async function killSandboxProcesses(netns: string, podDirPath: string, rec?: { netnsIno: number }): Promise<void> {
  const path = netnsPath(netns);
  let mounted: number | undefined;
  try {
    const st = statSync(path);
    if (st.dev === statSync('/proc/self/ns/net').dev) mounted = st.ino;
  } catch {
    /* no netns */
  }
  if (mounted !== undefined) {
    const pids = processesInNetns(mounted);
    if (pids.length) await stopProcesses(pids, 0, mounted);
  }
  if (rec && rec.netnsIno !== mounted) {
    const pids = readPidFiles(podDirPath).filter((p) => processAlive(p, rec.netnsIno));
    if (pids.length) await stopProcesses(pids, 0, rec.netnsIno);
  }
}
