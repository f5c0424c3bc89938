// A `reconfigure` step rebuilds the lab with other cluster ranges or another
// proxy mode. A cluster's ranges are fixed when it is created (kubeadm init's
// --pod-network-cidr / --service-cidr, the nodes' podCIDRs, the kube-proxy
// ConfigMap read at start), so changing them honestly means a new cluster:
// this computes the lab it becomes — spec, cluster checks located at the
// step, layout — and the lifecycle tears down and brings up that lab.
import type { Lab } from './lab.ts';
import { resolveLayout } from './layout.ts';
import type { LabSpec, StepOf } from './schema.ts';
import { parseYaml, type YamlSource } from './source.ts';
import { checkCluster } from './validate.ts';

export type ReconfigureChange = Pick<StepOf<'reconfigure'>, 'cluster' | 'proxy'>;

/** The lab's spec with the step's changes: given cluster fields replace the old ones, the rest stay. */
export function reconfigureSpec(spec: LabSpec, change: ReconfigureChange): LabSpec {
  const given = Object.fromEntries(Object.entries(change.cluster ?? {}).filter(([, v]) => v !== undefined));
  return {
    ...spec,
    cluster: { ...spec.cluster, ...given },
    proxy: { ...spec.proxy, mode: change.proxy?.mode ?? spec.proxy.mode },
  };
}

/**
 * The lab after a reconfigure step. `src` is the step itself (so a bad range
 * points at its line); at run time, when the step was checked at load, a
 * placeholder will do. Keeps the current mode (a --mode override) unless the
 * step sets one.
 */
export function reconfigureLab(lab: Lab, change: ReconfigureChange, src: YamlSource = parseYaml('{}', lab.file)): Lab {
  const nodes = change.cluster?.nodes;
  if (nodes) {
    const before = lab.spec.cluster.nodes.map((n) => n.name);
    if (nodes.length !== before.length) {
      throw src.error(['cluster', 'nodes'], `a rebuilt lab keeps its ${before.length} nodes (${before.join(', ')}); change their ip or podCIDR, not how many there are`);
    }
    nodes.forEach((n, i) => {
      if (n.name !== before[i]) throw src.error(['cluster', 'nodes', i, 'name'], `node ${i + 1} is "${before[i]}" in this lab; a rebuilt lab keeps its node names, in order`);
    });
  }
  const spec = reconfigureSpec(lab.spec, { ...change, proxy: { mode: change.proxy?.mode ?? lab.layout.proxyMode } });
  const warnings = checkCluster(spec, src);
  return { ...lab, spec, layout: resolveLayout(spec, spec.proxy.mode), warnings };
}
