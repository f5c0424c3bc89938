// The rebuild behind a `reconfigure` step: the lab torn down and brought up
// again with other ranges or another proxy mode — a new cluster, as changing
// those on a real one would need.
import type { LabDriver } from '../cluster/driver.ts';
import type { Lab } from '../lab/load.ts';
import { reconfigureLab, type ReconfigureChange } from '../lab/reconfigure.ts';
import type { Progress } from '../util/output.ts';
import { preflightLab } from './preflight.ts';
import { upLab, type RunningLab } from './up.ts';
import { takeDown } from './reach.ts';

/** down + up of `lab` with the change; the machine is checked before anything is removed. */
export async function rebuildLab(lab: Lab, change: ReconfigureChange, driver: LabDriver, progress: Progress): Promise<{ lab: Lab; running: RunningLab }> {
  const next = reconfigureLab(lab, change);
  await preflightLab(next, driver);
  const removed = await takeDown(driver, lab.name);
  progress.note(`lab ${lab.name} removed: ${removed}`);
  return { lab: next, running: await upLab(next, driver, progress) };
}
