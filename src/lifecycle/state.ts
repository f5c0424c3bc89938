// Where a lab lives on disk: /var/lib/svclab/<lab>/ holds lab.json (what was
// brought up, by which driver, from which file) plus every file the lab makes
// (logs, pod dirs, CNI state, the API socket). `down` removes the directory.
import { mkdir, readFile, readdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabLayout } from '../lab/load.ts';
import type { ProxyMode } from '../k8s/proxy-mode.ts';
import type { DriverName } from '../cluster/driver.ts';
import { STATE_ROOT, labStateDir } from '../cluster/common/state-dir.ts';

export interface LabRecord {
  name: string;
  file: string;
  driver: DriverName;
  mode: ProxyMode;
  layout: LabLayout;
  phase: 'starting' | 'up' | 'failed';
  createdAt: string;
  /** Where the CLI reaches the control plane. */
  apiSocket: string;
  /** Pids (as each node sees them) of the node daemons, keyed "apiserver/node-01", "proxy/node-02"…; for `proxy restart` and `down --keep-nodes`. */
  daemons?: Record<string, number>;
  /** The host's loopback port of the API (https://127.0.0.1:<port>, TLS end to end), when the driver has one. */
  apiPort?: number;
  /** The kubeconfig file the svclab-<lab> context was merged into (down removes it from there). */
  kubeconfig?: string;
}

/** The lab's state directory (its one home is the drivers' common state-dir.ts: they create and remove it). */
export function labDir(lab: string): string {
  return labStateDir(lab);
}

export function apiSocketPath(lab: string): string {
  return join(labDir(lab), 'api.sock');
}

export async function writeRecord(rec: LabRecord): Promise<void> {
  await mkdir(labDir(rec.name), { recursive: true });
  const tmp = join(labDir(rec.name), 'lab.json.tmp');
  await writeFile(tmp, JSON.stringify(rec, null, 2));
  await rename(tmp, join(labDir(rec.name), 'lab.json'));
}

export async function readRecord(lab: string): Promise<LabRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(labDir(lab), 'lab.json'), 'utf8')) as LabRecord;
  } catch {
    return undefined;
  }
}

/** Every lab with a state directory (up, starting, or half torn down). */
export async function listLabs(): Promise<string[]> {
  try {
    return (await readdir(STATE_ROOT, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}
