// Which lab a verb acts on: --lab, $SVCLAB_LAB, or the only lab that is up.
import { existsSync, statSync } from 'node:fs';
import { EnvironmentError } from '../util/errors.ts';
import { listLabs, readRecord, type LabRecord } from '../lifecycle/state.ts';
import { attachLab, type RunningLab } from '../lifecycle/up.ts';
import { getDriver } from '../cluster/drivers.ts';

export async function selectRecord(name?: string): Promise<LabRecord> {
  let lab = name ?? process.env.SVCLAB_LAB;
  // A lab file path names the lab by its file's metadata; accept both.
  if (lab && (lab.endsWith('.yaml') || lab.endsWith('.yml')) && existsSync(lab) && statSync(lab).isFile()) {
    const { loadLab } = await import('../lab/load.ts');
    lab = (await loadLab(lab)).name;
  }
  if (!lab) {
    const labs = [];
    for (const l of await listLabs()) if ((await readRecord(l))?.phase === 'up') labs.push(l);
    if (labs.length === 0) throw new EnvironmentError('no lab is up', 'bring one up with `svclab up labs/clusterip-db.yaml`');
    if (labs.length > 1) throw new EnvironmentError(`${labs.length} labs are up (${labs.join(', ')})`, 'say which with --lab NAME');
    lab = labs[0];
  }
  const rec = await readRecord(lab);
  if (!rec) throw new EnvironmentError(`lab ${lab} is not up`, 'see `svclab status`');
  return rec;
}

export async function selectLab(name?: string): Promise<RunningLab> {
  const rec = await selectRecord(name);
  return attachLab(rec, await getDriver(rec.driver));
}
