// Before anything is created: can this machine run this lab? Each problem is
// an EnvironmentError saying what is missing and what to do (exit code 2).
import { access, constants } from 'node:fs/promises';
import type { Lab } from '../lab/load.ts';
import type { DriverCapabilities, LabDriver } from '../cluster/driver.ts';
import { EnvironmentError } from '../util/errors.ts';
import { resolveImage } from '../lab/images.ts';
import type { Deployment, Pod } from '../k8s/objects.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import { proxyMode } from '../proxy/modes.ts';

const PROGRAMS: Record<string, { path: string[]; pkg: string }> = {
  mariadb: { path: ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db', '/usr/bin/mariadb'], pkg: 'mariadb-server mariadb-client' },
  nginx: { path: ['/usr/sbin/nginx'], pkg: 'nginx-light' },
  dns: { path: ['/usr/sbin/dnsmasq'], pkg: 'dnsmasq-base' },
};

async function exists(p: string): Promise<boolean> {
  return access(p, constants.X_OK).then(() => true, () => false);
}

export async function preflightLab(lab: Lab, driver: LabDriver): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('svclab needs root to create network namespaces and program netfilter', 'run it with sudo');
  }
  await driver.preflight();
  const modeError = await proxyModeError(lab.layout.proxyMode, driver.capabilities);
  if (modeError) throw modeError;
  if (!driver.capabilities.needsHostTools) return; // VMs carry their own programs (the base image).
  const kinds = new Set<string>(['dns']);
  for (const m of lab.spec.manifests ?? []) {
    const spec = (m as Deployment).kind === 'Deployment' ? (m as Deployment).spec?.template?.spec : (m as Pod).kind === 'Pod' ? (m as Pod).spec : undefined;
    for (const c of spec?.containers ?? []) {
      const k = resolveImage(c.image ?? '');
      if (k) kinds.add(k);
    }
  }
  for (const k of kinds) {
    const prog = PROGRAMS[k];
    if (!prog) continue;
    for (const p of prog.path) {
      if (!(await exists(p))) throw new EnvironmentError(`${p} is missing (needed by the lab's ${k} pods)`, `apt-get install ${prog.pkg}  (or: sudo bash scripts/setup.sh)`);
    }
  }
  for (const p of ['/usr/bin/curl', '/usr/bin/nsenter', '/usr/bin/unshare']) {
    if (!(await exists(p))) throw new EnvironmentError(`${p} is missing`, 'sudo bash scripts/setup.sh');
  }
}

/**
 * Why this machine cannot run kube-proxy in `mode` on nodes with these
 * capabilities, or undefined if it can (a matrix run skips such a mode,
 * naming this reason).
 */
export async function proxyModeError(mode: ProxyMode, capabilities: DriverCapabilities): Promise<EnvironmentError | undefined> {
  return proxyMode(mode).hostError(capabilities);
}
