// A scenario's view of a running lab: the context scenarios, exercise checks
// and solutions run in, built from what lifecycle brought up. It lives in
// src/scenario (above lifecycle) so that lifecycle never needs the scenario's types.
import { join } from 'node:path';
import type { Lab } from '../lab/load.ts';
import { rebuildLab } from '../lifecycle/rebuild.ts';
import { labDir } from '../lifecycle/state.ts';
import type { RunningLab } from '../lifecycle/up.ts';
import type { Progress } from '../util/output.ts';
import type { RebuiltLab, ScenarioContext } from './context.ts';

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
