// `svclab down` for the netns driver. It trusts no record of what `up` did
// (`up` may have been killed half-way, a daemon may have crashed): it finds
// everything of a lab by name — namespaces "svclab-<lab>-*" (nodes, network,
// external client and the kubelet's pod namespaces), /etc/netns/svclab-<lab>-*,
// /var/lib/svclab/<lab> — and removes it.
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { run } from '../../util/exec.ts';
import { killNetnsProcesses, listNetns } from '../common/namespaces.ts';
import { labNetnsPrefix, labOfNetworkNetns } from '../common/names.ts';
import { STATE_ROOT, labStateDir } from '../common/state-dir.ts';
import { ETC_NETNS } from './names.ts';

export interface NetnsTeardown {
  /** Namespaces deleted. */
  namespaces: string[];
  /** Processes killed inside them. */
  processes: number;
  /** Files and directories removed (state dir, /etc/netns entries). */
  paths: string[];
  /** Mounts found under the state dir and unmounted. */
  unmounted: string[];
}

/** Every lab that exists on this host in some form: a state dir or a network namespace. */
export async function knownLabs(namespaces?: string[]): Promise<Set<string>> {
  const labs = new Set<string>();
  for (const ns of namespaces ?? (await listNetns())) {
    const lab = labOfNetworkNetns(ns);
    if (lab) labs.add(lab);
  }
  for (const dir of await readdir(STATE_ROOT).catch(() => [] as string[])) labs.add(dir);
  return labs;
}

/**
 * Names with the lab's prefix that are really the lab's. Lab "a" has the
 * prefix "svclab-a-", which lab "a-b"'s "svclab-a-b-node-01" also carries;
 * `up` refuses to run two such labs at once, and this filter keeps `down a`
 * away from an "a-b" left over from before that rule or created meanwhile.
 */
export function ownedBy(lab: string, names: string[], labs: Set<string>): string[] {
  const prefix = labNetnsPrefix(lab);
  const longer = [...labs].filter((l) => l !== lab && l.startsWith(`${lab}-`)).map((l) => labNetnsPrefix(l));
  return names.filter((n) => n.startsWith(prefix) && !longer.some((p) => n.startsWith(p)));
}

/** Kills the processes of every namespace of `lab` and deletes the namespaces; files stay. */
export async function removeLabNamespaces(lab: string): Promise<{ namespaces: string[]; processes: number }> {
  const all = await listNetns();
  const labs = await knownLabs(all);
  const network = `${labNetnsPrefix(lab)}net`;
  // Pods first, the network namespace (the bridge) last, so no member is
  // briefly left with a dangling peer that something could re-attach.
  const namespaces = ownedBy(lab, all, labs).sort((a, b) => Number(a === network) - Number(b === network));

  const processes = await killNetnsProcesses(namespaces);
  if (namespaces.length > 0) {
    // -force: keep going past a failure; the check below reports what is left.
    const r = await run(['ip', '-force', '-batch', '-'], {
      input: namespaces.map((n) => `netns delete ${n}\n`).join(''),
      allowFailure: true,
    });
    const left = ownedBy(lab, await listNetns(), labs);
    if (left.length > 0) throw new Error(`could not delete namespaces ${left.join(', ')}:\n${r.stderr.trim()}`);
  }
  return { namespaces, processes };
}

/** Removes everything of `lab`. Safe to run twice, and on a lab that never came up. */
export async function down(lab: string): Promise<NetnsTeardown> {
  const stateDir = labStateDir(lab); // validates the name before any path is built
  const { namespaces, processes } = await removeLabNamespaces(lab);
  const labs = await knownLabs();

  const paths: string[] = [];
  const etcEntries = await readdir(ETC_NETNS).catch(() => [] as string[]);
  for (const entry of ownedBy(lab, etcEntries, labs)) {
    await rm(`${ETC_NETNS}/${entry}`, { recursive: true, force: true });
    paths.push(`${ETC_NETNS}/${entry}`);
  }

  const unmounted = await unmountUnder(stateDir);
  if ((await readdir(stateDir).catch(() => undefined)) !== undefined) {
    await rm(stateDir, { recursive: true, force: true });
    paths.push(stateDir);
  }
  // The shared roots go only when empty: another lab may be using them.
  for (const root of [STATE_ROOT, ETC_NETNS]) await rmdir(root).catch(() => {});
  return { namespaces, processes, paths, unmounted };
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    // mountinfo escapes space, tab, newline and backslash as octal.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  // Rounds, because mounts can be stacked on one mount point.
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) {
      const r = await run(['umount', p], { allowFailure: true });
      // Busy: detach it now, the kernel finishes when the last user goes.
      if (r.code !== 0) await run(['umount', '-l', p], { allowFailure: true });
      done.push(p);
    }
  }
  const left = await mountsUnder(dir);
  // Never rm -r through a mount: it would delete the mounted filesystem's files.
  if (left.length > 0) throw new Error(`cannot unmount ${left.join(', ')}; not removing ${dir}`);
  return done;
}
