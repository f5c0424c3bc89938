// A scenario's view of a running lab, and the rebuild behind a `reconfigure`
// step: the lab torn down and brought up again with other ranges or another
// proxy mode — a new cluster, as changing those on a real one would need.
import { join } from 'node:path';
import type { LabDriver } from '../cluster/driver.ts';
import type { Lab } from '../lab/load.ts';
import { reconfigureLab, type ReconfigureChange } from '../lab/reconfigure.ts';
import type { Progress } from '../cli/output.ts';
import type { RebuiltLab, ScenarioContext } from '../scenario/context.ts';
import { preflightLab } from './preflight.ts';
import { labDir } from './state.ts';
import { upLab, type RunningLab } from './up.ts';

/** down + up of `lab` with the change; the machine is checked before anything is removed. */
export async function rebuildLab(lab: Lab, change: ReconfigureChange, driver: LabDriver, progress: Progress): Promise<{ lab: Lab; running: RunningLab }> {
  const next = reconfigureLab(lab, change);
  await preflightLab(next, driver);
  const removed = await driver.down(lab.name);
  progress.note(`lab ${lab.name} removed: ${removed}`);
  return { lab: next, running: await upLab(next, driver, progress) };
}

/** Where answer files of a lab live (removed with the lab). */
export function answersDir(lab: string): string {
  return join(labDir(lab), 'answers');
}

function parts(running: RunningLab): Omit<RebuiltLab, 'summary'> {
  return { layout: running.record.layout, mode: running.record.mode, api: running.api, nodes: running.nodes, external: running.external };
}

/**
 * The context scenarios, exercise checks and solutions run in: the running
 * lab as its record says (ranges and mode as brought up, also after a
 * rebuild), its answers directory, and rebuilds of `lab` for reconfigure steps.
 */
export function scenarioContext(lab: Lab, running: RunningLab, progress: Progress): ScenarioContext {
  const { nodeBin, bundle } = running.driver.runtime();
  let current = lab;
  return {
    ...parts(running),
    bundle,
    nodeBin,
    vars: new Map(),
    answersDir: answersDir(lab.name),
    timeScale: running.driver.capabilities.timeScale,
    rebuild: async (change) => {
      const t0 = Date.now();
      const r = await rebuildLab(current, change, running.driver, progress);
      current = r.lab;
      const l = r.running.record.layout;
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      return {
        ...parts(r.running),
        summary: `lab ${l.name} rebuilt in ${seconds}s: service CIDR ${l.serviceCIDR}, pod CIDR ${l.podCIDR} (nodes ${l.nodes.map((n) => `${n.name} ${n.podCIDR}`).join(', ')}), ${r.running.record.mode} mode`,
      };
    },
  };
}
