// Host queries and actions both drivers need for the lab's namespaces (netns
// nodes; the node network and external client of either driver): which
// namespaces exist, which processes live in one, killing them.
import { readdir, stat } from 'node:fs/promises';

const RUN_NETNS = '/run/netns';

/** Names of all named network namespaces (what `ip netns list` reads). */
export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir(RUN_NETNS)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The nsfs inode of a named namespace, or undefined if it is gone or a stale (unmounted) entry. */
export async function netnsInode(netns: string): Promise<bigint | undefined> {
  try {
    const st = await stat(`${RUN_NETNS}/${netns}`, { bigint: true });
    // A live entry is an nsfs bind mount; a stale one (its `ip netns add` was
    // killed before the mount) is a plain empty file on /run's tmpfs.
    return st.dev === (await nsfsDev()) ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

let nsfsDevCache: bigint | undefined;
async function nsfsDev(): Promise<bigint> {
  nsfsDevCache ??= (await stat('/proc/self/ns/net', { bigint: true })).dev;
  return nsfsDevCache;
}

/** The network-namespace inode of every process on the host (what `ip netns pids` compares). */
export async function processNetnsInodes(): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  const entries = await readdir('/proc');
  await Promise.all(
    entries.map(async (e) => {
      if (!/^\d+$/.test(e)) return;
      try {
        out.set(Number(e), (await stat(`/proc/${e}/ns/net`, { bigint: true })).ino);
      } catch {
        // Gone meanwhile, or a zombie (no namespaces left).
      }
    }),
  );
  return out;
}

/** Pids of the processes inside any of these namespaces (named, or given by inode). */
export async function netnsPids(namespaces: (string | bigint)[]): Promise<number[]> {
  const inodes = new Set<bigint>();
  for (const ns of namespaces) {
    const ino = typeof ns === 'bigint' ? ns : await netnsInode(ns);
    if (ino !== undefined) inodes.add(ino);
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const [pid, ino] of await processNetnsInodes()) if (inodes.has(ino) && pid !== process.pid) pids.push(pid);
  return pids.sort((a, b) => a - b);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kills every process in these namespaces: TERM, up to `graceMs` to exit,
 * then KILL. Rescans each round, so children forked meanwhile are caught too.
 * Returns how many distinct processes were signalled.
 */
export async function killNetnsProcesses(namespaces: string[], graceMs = 2000): Promise<number> {
  const seen = new Set<number>();
  // Resolve the inodes once: the scan must keep finding processes even if a
  // namespace's name is deleted meanwhile.
  const inodes = (await Promise.all(namespaces.map(netnsInode))).filter((i): i is bigint => i !== undefined);
  const scan = () => netnsPids(inodes);
  const deadline = Date.now() + graceMs;
  let pids = await scan();
  while (pids.length > 0 && Date.now() < deadline) {
    for (const pid of pids) {
      if (!seen.has(pid)) signal(pid, 'SIGTERM');
      seen.add(pid);
    }
    await sleep(50);
    pids = await scan();
  }
  // A killed process can take seconds to disappear on a loaded machine (a
  // MariaDB server freeing its buffer pool), so wait up to 5 s for it.
  for (let round = 0; pids.length > 0 && round < 100; round++) {
    for (const pid of pids) {
      seen.add(pid);
      signal(pid, 'SIGKILL');
    }
    await sleep(50);
    pids = await scan();
  }
  if (pids.length > 0) throw new Error(`processes ${pids.join(', ')} in ${namespaces.join(', ')} survived SIGKILL`);
  return seen.size;
}
