// How a learner's own kubectl reaches a lab (issue 12, "reach and
// credentials, as kind does it"): the lab PKI under the state dir, the
// apiserver's TLS-only unix socket, the loopback forwarder on this host and
// the svclab-<lab> context in the user's kubeconfig. `up` opens it, `down`
// closes it, `svclab kubeconfig` prints it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabDriver, LabNode } from '../cluster/driver.ts';
import type { LabLayout } from '../lab/load.ts';
import { createPki, pkiPaths, type PkiPaths } from '../controlplane/pki.ts';
import { EnvironmentError } from '../util/errors.ts';
import { bundlePath } from './bundle.ts';
import { installContext, kubeconfigPath, uninstallContext, type LabCredentials } from './kubeconfig.ts';
import { forwarderArgv, forwarderRecordPath, startLoopbackForwarder, stopLoopbackForwarder } from './loopback-forward.ts';
import { labDir, readRecord, type LabRecord } from './state.ts';

/** The lab's PKI directory, as kubeadm's /etc/kubernetes/pki. */
export function labPkiDir(lab: string): string {
  return join(labDir(lab), 'pki');
}

/** The apiserver's TLS-only unix socket (the loopback forwarder's other end). */
export function secureSocketPath(lab: string): string {
  return join(labDir(lab), 'api-tls.sock');
}

/**
 * Makes the lab PKI on this host; where the control-plane node does not share
 * this host's files (VMs), copies to it what the apiserver reads: the CA
 * certificate and its own serving pair (never the CA key or the admin pair).
 */
export async function makeLabPki(layout: LabLayout, driver: LabDriver, cp: LabNode): Promise<PkiPaths> {
  const node = layout.nodes[0];
  const p = await createPki(labPkiDir(layout.name), { nodeIP: node.ip, nodeName: node.name, serviceCIDR: layout.serviceCIDR, clusterDomain: layout.clusterDomain });
  if (!driver.capabilities.sharesHostFilesystem) {
    for (const [file, mode] of [[p.caCert, 0o644], [p.apiserverCert, 0o644], [p.apiserverKey, 0o600]] as const) {
      await cp.writeFile(file, await readFile(file, 'utf8'), mode);
    }
  }
  return p;
}

/** Why a driver gets no loopback endpoint (undefined when it does). */
export function reachUnsupported(driver: LabDriver): string | undefined {
  // The forwarder pipes to the apiserver's unix socket as a file of this host; a VM's socket is a file
  // inside the VM. Relaying it (driver.forward) is possible, but forward() keeps one relay record per
  // lab, which the CLI's own socket already uses; a second relay needs that record to name its relays.
  return driver.capabilities.sharesHostFilesystem ? undefined : `the ${driver.name} driver's apiserver socket is inside the VM, and its forward() relays one socket per lab (the CLI's)`;
}

/** The admin credentials and loopback address of a lab that is up. */
export async function labCredentials(rec: LabRecord): Promise<LabCredentials> {
  if (!rec.apiPort) throw new EnvironmentError(`lab ${rec.name} has no loopback API endpoint`, rec.phase === 'up' ? 'it was brought up by an svclab without one, or on a driver without one; `svclab down` and `svclab up` again' : `wait for \`svclab up\` to finish`);
  const p = pkiPaths(labPkiDir(rec.name));
  const [caPem, certPem, keyPem] = await Promise.all([readFile(p.caCert, 'utf8'), readFile(p.adminCert, 'utf8'), readFile(p.adminKey, 'utf8')]);
  return { lab: rec.name, server: `https://127.0.0.1:${rec.apiPort}`, caPem, certPem, keyPem };
}

/**
 * Starts the loopback forwarder and merges the svclab-<lab> context into the
 * user's kubeconfig; records port and file in `rec` (the caller writes it).
 */
export async function openReach(rec: LabRecord): Promise<{ port: number; kubeconfig: string }> {
  const state = labDir(rec.name);
  const fwd = await startLoopbackForwarder(
    forwarderArgv(process.execPath, bundlePath(), secureSocketPath(rec.name), forwarderRecordPath(state)),
    forwarderRecordPath(state),
    join(state, 'logs', 'api-forward.log'),
  );
  rec.apiPort = fwd.port;
  rec.kubeconfig = kubeconfigPath();
  await installContext(await labCredentials(rec), rec.kubeconfig);
  return { port: fwd.port, kubeconfig: rec.kubeconfig };
}

/**
 * Stops the forwarder and removes the lab's kubeconfig entries (from the file
 * `up` wrote to, else the current one). Works without a record too (a killed
 * `up`): the forwarder's own record is in the state dir. Returns what it did.
 */
export async function closeReach(lab: string, rec?: LabRecord): Promise<string[]> {
  const done: string[] = [];
  if (await stopLoopbackForwarder(forwarderRecordPath(labDir(lab)))) done.push('loopback API forwarder stopped');
  const file = await uninstallContext(lab, rec?.kubeconfig ?? kubeconfigPath());
  if (file) done.push(`context svclab-${lab} removed from ${file}`);
  return done;
}

/**
 * `driver.down(lab)` after closing what reaches the lab from this host: the
 * forwarder runs in the host's namespace, so no sweep of the lab's namespaces
 * ends it. Every path that removes a lab (down, run --down, reconfigure,
 * exercise --fresh, the matrix) goes through here.
 */
export async function takeDown(driver: LabDriver, lab: string): Promise<string> {
  const reach = await closeReach(lab, await readRecord(lab));
  return [...reach, await driver.down(lab)].join('; ');
}
