// A "host fingerprint" for integration tests: everything of the host's own
// network namespace a lab must never change (links, addresses, routes, rules,
// iptables/nft rulesets, sysctls), plus everything of one lab that must be
// gone after `down` (its namespaces, processes, files, mounts). Take one
// before, one after, and diff:
//
//   const scope = fingerprintScope(lab);
//   const before = await hostFingerprint(scope);
//   ... up, use, remember(scope) while the lab runs, down ...
//   assert.equal(diffFingerprints(before, await hostFingerprint(scope)), []);
//
// Only things of this lab are listed from the shared areas (/run/netns,
// /etc/netns, processes), so other engineers' labs running meanwhile do not
// show up as differences.
import { readdir, readFile, stat } from 'node:fs/promises';
import { run } from '../../src/util/exec.ts';
import { labNetnsPrefix } from '../../src/cluster/common/names.ts';
import { labStateDir } from '../../src/cluster/common/state-dir.ts';
import { listNetns, netnsInode, processNetnsInodes } from '../../src/cluster/common/namespaces.ts';

export interface FingerprintScope {
  lab: string;
  /** "svclab-<lab>-" */
  prefix: string;
  /** Inodes of the lab's namespaces seen so far: a process left in one is a leak even after the name is gone. */
  inodes: Set<bigint>;
}

export type HostFingerprint = Record<string, string[]>;

export function fingerprintScope(lab: string): FingerprintScope {
  return { lab, prefix: labNetnsPrefix(lab), inodes: new Set() };
}

/** Records the inodes of the lab's current namespaces (call while the lab is up, after pods exist). */
export async function remember(scope: FingerprintScope): Promise<void> {
  for (const ns of (await listNetns()).filter((n) => n.startsWith(scope.prefix))) {
    const ino = await netnsInode(ns);
    if (ino !== undefined) scope.inodes.add(ino);
  }
}

/** Host sysctls the driver sets inside namespaces: the host's own values must not move. */
const HOST_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/route_localnet',
  'net/ipv4/conf/all/rp_filter',
  'net/ipv4/conf/default/rp_filter',
  'net/bridge/bridge-nf-call-iptables',
  'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
];

async function lines(argv: string[]): Promise<string[]> {
  const r = await run(argv, { allowFailure: true });
  const out = r.code === 0 ? r.stdout : `(exit ${r.code}) ${r.stderr.trim()}`;
  return out.split('\n').filter((l) => l.trim() !== '');
}

// Values that change on their own: counters, timestamps, lifetimes.
const normalize = {
  iptables: (l: string[]) => l.filter((x) => !x.startsWith('#')).map((x) => x.replace(/\[\d+:\d+\]/g, '[0:0]')),
  nft: (l: string[]) => l.map((x) => x.replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0')),
  lifetimes: (l: string[]) => l.map((x) => x.replace(/(valid_lft|preferred_lft|expires) \d+sec/g, '$1 Nsec')),
};

async function entries(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((e) => e.startsWith(prefix)).map((e) => `${dir}/${e}`);
}

async function exists(path: string): Promise<string[]> {
  return (await stat(path).then(() => true, () => false)) ? [path] : [];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = `${dir}/${e.name}`;
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

/** Processes of the lab: inside one of its namespaces (live or remembered), or naming it on their command line. */
async function labProcesses(scope: FingerprintScope): Promise<string[]> {
  await remember(scope);
  const out: string[] = [];
  for (const [pid, ino] of await processNetnsInodes()) {
    if (pid === process.pid) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
    if (scope.inodes.has(ino) || cmdline.includes(scope.prefix)) out.push(`${pid} ${cmdline}`);
  }
  return out.sort();
}

export async function hostFingerprint(scope: FingerprintScope): Promise<HostFingerprint> {
  const state = labStateDir(scope.lab);
  const mountinfo = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  const sysctls = await Promise.all(
    HOST_SYSCTLS.map(async (k) => `${k} = ${(await readFile(`/proc/sys/${k}`, 'utf8').catch(() => '(absent)')).trim()}`),
  );
  return {
    netns: (await listNetns()).filter((n) => n.startsWith(scope.prefix)),
    links: await lines(['ip', '-o', 'link', 'show']),
    addresses: normalize.lifetimes(await lines(['ip', '-o', 'addr', 'show'])),
    routes: normalize.lifetimes([...(await lines(['ip', '-4', 'route', 'show', 'table', 'all'])), ...(await lines(['ip', '-6', 'route', 'show', 'table', 'all']))]),
    rules: [...(await lines(['ip', '-4', 'rule'])), ...(await lines(['ip', '-6', 'rule']))],
    iptables: normalize.iptables(await lines(['iptables-save'])),
    ip6tables: normalize.iptables(await lines(['ip6tables-save'])),
    'iptables-legacy': normalize.iptables(await lines(['iptables-legacy-save'])),
    nft: normalize.nft(await lines(['nft', 'list', 'ruleset'])),
    sysctls,
    processes: await labProcesses(scope),
    files: [
      ...(await entries('/run/netns', scope.prefix)),
      ...(await entries('/etc/netns', scope.prefix)),
      ...(await exists(state)),
      // The CNI plugins' default state dir: svclab keeps IPAM under the lab's dir instead.
      ...(await walk('/var/lib/cni')),
    ],
    mounts: mountinfo.filter((l) => l.includes(scope.prefix) || l.includes(` ${state}`)),
  };
}

/** Human-readable differences, "section: - line" / "section: + line"; [] when equal. */
export function diffFingerprints(before: HostFingerprint, after: HostFingerprint): string[] {
  const out: string[] = [];
  for (const section of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[section] ?? [];
    const b = after[section] ?? [];
    const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const ca = count(a);
    const cb = count(b);
    for (const [line, n] of ca) for (let i = cb.get(line) ?? 0; i < n; i++) out.push(`${section}: - ${line}`);
    for (const [line, n] of cb) for (let i = ca.get(line) ?? 0; i < n; i++) out.push(`${section}: + ${line}`);
  }
  return out;
}
