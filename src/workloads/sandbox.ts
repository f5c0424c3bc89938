// The pod sandbox: a network namespace named after the pod, attached to the
// node's network by the CNI plugins, with the resolv.conf and hosts files that
// `ip netns exec` bind-mounts over /etc for every process started in it.
// What upstream's CRI runtime does with a pause container, done with a named
// netns. Runs inside the node (the kubelet's network namespace).
import { mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.ts';
import { EnvironmentError } from '../util/errors.ts';
import type { Pod } from '../k8s/objects.ts';
import { netnsEtcDir, netnsPath, sandboxFile } from './pod-paths.ts';

/** The CNI calls the sandbox needs (src/cni/plugins.ts; a fake in tests). */
export interface CniArgs {
  confDir: string;
  netnsPath: string;
  containerId: string;
  ifName?: string;
  args?: Record<string, string>;
  where?: string;
}
export interface Cni {
  add(a: CniArgs): Promise<{ ip: string; gateway?: string; mac?: string; result?: unknown }>;
  del(a: CniArgs & { prevResult?: unknown }): Promise<void>;
}

/** Written to <podDir>/sandbox.json: what a restarted kubelet needs to adopt or clean up. */
export interface SandboxRecord {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  netns: string;
  /** Inode of the netns: a pid counts as the pod's only if its /proc/<pid>/ns/net is this one. */
  netnsIno: number;
  ip: string;
  gateway?: string;
  mac?: string;
  /** The CNI ADD result, handed back to DEL as prevResult (CNI spec). */
  cniResult?: unknown;
  createdAt: string;
}

export interface SandboxSpec {
  pod: Pod;
  nodeName: string;
  netns: string;
  podDir: string;
  cniConfDir: string;
  dnsIP: string;
  clusterDomain: string;
}

// ---- pure: the files under /etc/netns/<netns> --------------------------------

/**
 * resolv.conf as the kubelet writes it for dnsPolicy ClusterFirst (the
 * default): the three cluster search domains and ndots:5, so `db-service`
 * and `db-service.default` both find db-service.default.svc.cluster.local.
 * dnsPolicy Default takes the node's file; dnsConfig is merged in.
 */
export function renderResolvConf(pod: Pod, clusterDomain: string, dnsIP: string, nodeResolvConf = ''): string {
  const ns = pod.metadata?.namespace ?? 'default';
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    nameservers = [dnsIP];
    searches = [`${ns}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
    options = ['ndots:5'];
  } else if (policy === 'Default') {
    for (const line of nodeResolvConf.split('\n')) {
      const [key, ...rest] = line.trim().split(/\s+/);
      if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
      if (key === 'search' || key === 'domain') searches = rest;
      if (key === 'options') options.push(...rest);
    }
  }
  const cfg = pod.spec?.dnsConfig;
  nameservers = [...new Set([...nameservers, ...(cfg?.nameservers ?? [])])].slice(0, 3);
  searches = [...new Set([...searches, ...(cfg?.searches ?? [])])];
  for (const o of cfg?.options ?? []) {
    if (!o.name) continue;
    options = options.filter((x) => x.split(':')[0] !== o.name);
    options.push(o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  }
  return [
    ...(searches.length ? [`search ${searches.join(' ')}`] : []),
    ...nameservers.map((n) => `nameserver ${n}`),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
    '',
  ].join('\n');
}

/** The pod's hostname: spec.hostname or the pod name, cut to 63 characters as the kubelet does. */
export function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname ?? pod.metadata?.name ?? '';
  return name.length > 63 ? name.slice(0, 63).replace(/[-.]+$/, '') : name;
}

/** The kubelet's managed /etc/hosts: localhost lines, then the pod's IP and name (and FQDN with a subdomain). */
export function renderHosts(pod: Pod, podIP: string, clusterDomain: string): string {
  const host = podHostname(pod);
  const sub = pod.spec?.subdomain;
  const names = sub ? [`${host}.${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`, host] : [host];
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${podIP}\t${names.join('\t')}`,
  ];
  for (const alias of pod.spec?.hostAliases ?? []) {
    if (alias.ip && alias.hostnames?.length) lines.push(`${alias.ip}\t${alias.hostnames.join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

// ---- the host side ------------------------------------------------------------

/** True if path is a mounted network namespace (not just the empty file `ip netns add` leaves behind). */
export function isNetnsMounted(path: string): boolean {
  try {
    return statSync(path).dev === statSync('/proc/self/ns/net').dev;
  } catch {
    return false;
  }
}

export function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * The kubelet must create pod namespaces where the host sees them: a mount
 * made in a private mount namespace (as `ip netns exec` gives its command)
 * does not propagate back, so the pod's /run/netns entry would exist only for
 * this kubelet — invisible to `ip netns`, `svclab down` and a restarted
 * kubelet. /proc/self/mountinfo tells: /run/netns must be a shared mount, not
 * a slave ("master:N") of the host's.
 */
export function checkNetnsPropagation(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): void {
  const line = mountinfo.split('\n').filter((l) => l.split(' ')[4] === '/run/netns').at(-1);
  if (!line) return; // not mounted yet: `ip netns add` makes it, shared, here
  const optional = line.split(' - ')[0].split(' ').slice(6);
  if (optional.some((f) => f.startsWith('master:')) || !optional.some((f) => f.startsWith('shared:'))) {
    throw new EnvironmentError(
      'the kubelet runs in a private mount namespace (/run/netns is not shared with the host): ' +
        'pod network namespaces it creates would be invisible outside it and lost on restart',
      'start the kubelet with `nsenter --net=/run/netns/<node> -- …` instead of `ip netns exec <node> …`',
    );
  }
}

export async function readSandbox(podDir: string): Promise<SandboxRecord | undefined> {
  try {
    return JSON.parse(await readFile(sandboxFile(podDir), 'utf8')) as SandboxRecord;
  } catch {
    return undefined;
  }
}

/** Pod dirs under <stateDir>/pods with their sandbox records (for adoption and garbage collection). */
export async function listSandboxes(stateDir: string): Promise<{ dir: string; record?: SandboxRecord }[]> {
  const root = join(stateDir, 'pods');
  const names = await readdir(root).catch(() => [] as string[]);
  return Promise.all(names.map(async (n) => ({ dir: join(root, n), record: await readSandbox(join(root, n)) })));
}

function cniCallArgs(spec: { pod: Pod; nodeName: string; netns: string; cniConfDir: string }): CniArgs {
  return {
    confDir: spec.cniConfDir,
    netnsPath: netnsPath(spec.netns),
    containerId: spec.netns,
    ifName: 'eth0',
    // What the kubelet passes (upstream pkg/kubelet/dockershim, now the CRI runtimes).
    args: {
      K8S_POD_NAMESPACE: spec.pod.metadata?.namespace ?? 'default',
      K8S_POD_NAME: spec.pod.metadata?.name ?? '',
      K8S_POD_INFRA_CONTAINER_ID: spec.netns,
      K8S_POD_UID: spec.pod.metadata?.uid ?? '',
    },
    where: spec.nodeName,
  };
}

/** Creates the netns, attaches it with CNI, writes /etc/netns/<netns>/{resolv.conf,hosts} and sandbox.json. */
export async function createSandbox(spec: SandboxSpec, cni: Cni): Promise<SandboxRecord> {
  const path = netnsPath(spec.netns);
  await mkdir(spec.podDir, { recursive: true });
  // A leftover entry (an empty file, or a namespace from a crashed run) would make `add` fail.
  if (netnsInode(path) !== undefined) await run(['ip', 'netns', 'del', spec.netns], { allowFailure: true });
  await run(['ip', 'netns', 'add', spec.netns], { where: spec.nodeName });
  await run(['ip', '-n', spec.netns, 'link', 'set', 'lo', 'up'], { where: spec.nodeName });
  const ino = netnsInode(path)!;
  const added = await cni.add(cniCallArgs(spec));
  const etc = netnsEtcDir(spec.netns);
  await mkdir(etc, { recursive: true });
  const nodeResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  await writeFile(join(etc, 'resolv.conf'), renderResolvConf(spec.pod, spec.clusterDomain, spec.dnsIP, nodeResolv));
  await writeFile(join(etc, 'hosts'), renderHosts(spec.pod, added.ip, spec.clusterDomain));
  const record: SandboxRecord = {
    namespace: spec.pod.metadata?.namespace ?? 'default',
    name: spec.pod.metadata?.name ?? '',
    uid: spec.pod.metadata?.uid ?? '',
    nodeName: spec.nodeName,
    netns: spec.netns,
    netnsIno: ino,
    ip: added.ip,
    gateway: added.gateway,
    mac: added.mac,
    cniResult: added.result,
    createdAt: new Date().toISOString(),
  };
  await writeFile(sandboxFile(spec.podDir), JSON.stringify(record, null, 2) + '\n');
  return record;
}

/**
 * Undoes createSandbox, every step tolerant of what is already gone (a
 * half-made sandbox, a second teardown): CNI DEL while the netns still
 * exists (the bridge plugin removes the veth from inside it; host-local
 * releases the IP either way), then the netns, /etc/netns/<netns>, the pod dir.
 * Returns the problems it met, for the log.
 */
export async function removeSandbox(
  s: { pod: Pod; nodeName: string; netns: string; podDir: string; cniConfDir: string; cniResult?: unknown },
  cni: Cni,
): Promise<string[]> {
  const problems: string[] = [];
  try {
    await cni.del({ ...cniCallArgs(s), prevResult: s.cniResult });
  } catch (err) {
    problems.push(`CNI DEL: ${(err as Error).message}`);
  }
  if (netnsInode(netnsPath(s.netns)) !== undefined) {
    const r = await run(['ip', 'netns', 'del', s.netns], { allowFailure: true });
    if (r.code !== 0) problems.push(`ip netns del ${s.netns}: ${r.stderr.trim()}`);
  }
  await rm(netnsEtcDir(s.netns), { recursive: true, force: true });
  await rm(s.podDir, { recursive: true, force: true });
  return problems;
}
