// What `svclab doctor` looks at: the lab file (its address plan, even when the
// loader would refuse it, and the loader's own warnings) and, for a lab that is
// up, the API's objects and each node's kube-proxy health endpoint.
import { readFile } from 'node:fs/promises';
import type { EndpointSlice, K8sNode, Pod, Service } from '../../k8s/objects.ts';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import type { RunningLab } from '../../lifecycle/up.ts';
import type { LabLayout } from '../../lab/layout.ts';
import { defaultNodeIP } from '../../lab/layout.ts';
import { defaultLabName, parseLab } from '../../lab/load.ts';
import { parseWith } from '../../lab/issues.ts';
import { LabSchema } from '../../lab/schema.ts';
import { formatLabError, parseYaml } from '../../lab/source.ts';
import { LabFileError } from '../../util/errors.ts';
import { clusterFindings, networkFindings, type Finding, type NetworkPlan } from './findings.ts';

export interface FileCheck {
  /** The lab's name, when the file says (or implies) one. */
  name?: string;
  plan?: NetworkPlan;
  findings: Finding[];
}

const labFileFinding = (e: LabFileError): Finding => ({
  check: 'lab-file',
  severity: 'error',
  title: formatLabError(e),
  details: ['svclab up refuses this lab file; nothing is created until it is fixed.'],
});

/** The address plan and the loader's verdict on a lab file. */
export async function checkLabFile(file: string): Promise<FileCheck> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { findings: [labFileFinding(new LabFileError(`cannot read the lab file: ${(e as Error).message}`, file))] };
  }
  const findings: Finding[] = [];
  let name: string | undefined;
  let plan: NetworkPlan | undefined;
  try {
    // Only the cluster section: the ranges can be judged even when a manifest is wrong.
    const src = parseYaml(text, file);
    const data = (src.data() ?? {}) as { metadata?: { name?: string }; cluster?: unknown };
    name = typeof data.metadata?.name === 'string' ? data.metadata.name : defaultLabName(file);
    const cluster = parseWith(LabSchema.shape.cluster, data.cluster, src.at(['cluster']));
    plan = {
      nodeNetwork: cluster.nodeNetwork,
      podCIDR: cluster.podCIDR,
      serviceCIDR: cluster.serviceCIDR,
      nodes: cluster.nodes.map((n, i) => ({ name: n.name, ip: n.ip ?? defaultNodeIP(cluster.nodeNetwork, i) })),
    };
    findings.push(...networkFindings(plan));
  } catch (e) {
    if (!(e instanceof LabFileError)) throw e;
    return { name, findings: [labFileFinding(e)] };
  }
  const reported = new Set(findings.map((f) => f.check));
  try {
    const lab = parseLab(text, file);
    name = lab.name;
    for (const w of lab.warnings) {
      // The loader's overlap warning is the finding above, told at length.
      if (reported.has('pod-service-overlap') && w.includes('overlaps service CIDR')) continue;
      findings.push({ check: 'lab-warning', severity: 'warning', title: w, details: [] });
    }
  } catch (e) {
    if (!(e instanceof LabFileError)) throw e;
    // The node-network overlaps are already findings; other refusals are news.
    const known = (reported.has('node-pod-overlap') || reported.has('node-service-overlap')) && /the node network .* overlaps/.test(e.message);
    if (!known) findings.push(labFileFinding(e));
  }
  return { name, plan, findings };
}

export function planOfLayout(layout: LabLayout): NetworkPlan {
  return { nodeNetwork: layout.nodeNetwork, podCIDR: layout.podCIDR, serviceCIDR: layout.serviceCIDR, nodes: layout.nodes };
}

/** kube-proxy's healthz as the node itself sees it (curl inside the node). */
async function proxyHealth(lab: RunningLab): Promise<{ node: string; ok: boolean; detail: string }[]> {
  return Promise.all(
    [...lab.nodes.values()].map(async (n) => {
      try {
        const r = await n.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', 'http://127.0.0.1:10256/healthz'], { allowFailure: true, timeoutMs: 10_000 });
        const code = r.stdout.trim();
        if (code === '200') return { node: n.name, ok: true, detail: 'HTTP 200' };
        return { node: n.name, ok: false, detail: code && code !== '000' ? `/healthz answered HTTP ${code}` : `nothing answers on 127.0.0.1:10256 (curl exit ${r.code})` };
      } catch (e) {
        return { node: n.name, ok: false, detail: `could not run curl in the node: ${(e as Error).message.split('\n')[0]}` };
      }
    }),
  );
}

/** The running lab's objects and proxies, judged. */
export async function checkRunningLab(lab: RunningLab): Promise<Finding[]> {
  const c = lab.api.client;
  const [services, slices, pods, nodes, proxies] = await Promise.all([
    c.list<Service>(resourcePath('Service')),
    c.list<EndpointSlice>(resourcePath('EndpointSlice')),
    c.list<Pod>(resourcePath('Pod')),
    c.list<K8sNode>(resourcePath('Node')),
    proxyHealth(lab),
  ]);
  return clusterFindings({
    serviceCIDR: lab.record.layout.serviceCIDR,
    services: services.items,
    slices: slices.items,
    pods: pods.items,
    nodes: nodes.items,
    proxyHealth: proxies,
  });
}
