// Where a pod lives on the node: its directory under the lab's state dir, its
// network namespace name, the per-container pid and log files, and how to run
// a command inside it. One definition, used by the kubelet, `svclab exec` and
// the teardown.
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { LabFileError } from '../util/errors.ts';

// Pod and namespace names are DNS subdomains / labels; container names are
// DNS labels. They reach file paths and command lines, so refuse anything
// else here (the control plane validates too; this is the last line).
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkPodName(ns: string, name: string): void {
  if (!LABEL.test(ns) || ns.length > 63) throw new LabFileError(`namespace "${ns}" is not a valid DNS label`);
  if (!SUBDOMAIN.test(name) || name.length > 253 || name.includes('..')) {
    throw new LabFileError(`pod name "${name}" is not a valid DNS subdomain`);
  }
}

export function checkContainerName(name: string): void {
  if (!LABEL.test(name) || name.length > 63) throw new LabFileError(`container name "${name}" is not a valid DNS label`);
}

/** <stateDir>/pods/<ns>_<name>: everything the pod owns on disk. */
export function podDir(stateDir: string, ns: string, name: string): string {
  checkPodName(ns, name);
  return join(stateDir, 'pods', `${ns}_${name}`);
}

/**
 * The pod's network namespace: <prefix><ns>_<name>. An underscore separates
 * namespace and name because neither may contain one, so the name is unique
 * per lab ("a-b"/"c" and "a"/"b-c" would collide with a dash). It is also the
 * CNI container id, which allows [A-Za-z0-9_.-].
 */
export function podNetns(prefix: string, ns: string, name: string): string {
  checkPodName(ns, name);
  const netns = `${prefix}${ns}_${name}`;
  if (netns.length > 255) throw new LabFileError(`network namespace name for pod ${ns}/${name} is longer than 255 characters`);
  return netns;
}

/** /run/netns/<netns>, the path CNI plugins and nsenter take. */
export function netnsPath(netns: string): string {
  return join('/run/netns', netns);
}

/** /etc/netns/<netns>: files `ip netns exec` bind-mounts over /etc/* (resolv.conf, hosts). */
export function netnsEtcDir(netns: string): string {
  return join('/etc/netns', netns);
}

export function containerPidFile(podDirPath: string, container: string): string {
  checkContainerName(container);
  return join(podDirPath, `${container}.pid`);
}

export function containerLogFile(podDirPath: string, container: string): string {
  checkContainerName(container);
  return join(podDirPath, `${container}.log`);
}

/** Per-container working directory (nginx.conf, the MariaDB datadir, temp dirs). */
export function containerWorkDir(podDirPath: string, container: string): string {
  checkContainerName(container);
  return join(podDirPath, container);
}

/** The sandbox record: which netns, IP and node the pod dir belongs to. */
export function sandboxFile(podDirPath: string): string {
  return join(podDirPath, 'sandbox.json');
}

/** The recorded pid of a container, or undefined if there is none. */
export function readContainerPid(podDirPath: string, container: string): number | undefined {
  try {
    const pid = Number(readFileSync(containerPidFile(podDirPath, container), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Every container pid recorded in a pod dir (for cleanup when the container list is unknown). */
export function readPidFiles(podDirPath: string): number[] {
  let files: string[];
  try {
    files = readdirSync(podDirPath).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  return files.map((f) => readContainerPid(podDirPath, f.slice(0, -4))).filter((p): p is number => p !== undefined);
}

/**
 * Runs cmd inside a container's namespaces: network (the pod IP), UTS (the pod
 * name as hostname) and mount (where /etc/resolv.conf and /etc/hosts are the
 * pod's). Used by `svclab exec <pod> -- …` and exec probes.
 */
export function podExecArgv(pid: number, cmd: string[]): string[] {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a container pid: ${pid}`);
  return ['nsenter', '-t', String(pid), '-n', '-u', '-m', '--', ...cmd];
}
