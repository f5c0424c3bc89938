// Userspace mode (kube-proxy ≤ 1.25): nat KUBE-PORTALS-CONTAINER / -HOST
// redirect ClusterIP:port to a port our proxy process listens on.
import type { LabNode } from '../../cluster/driver.ts';
import { CheckFailed } from '../../util/errors.ts';
import { findChain, parseIptablesSave } from '../iptables/save-parse.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from '../rules-check.ts';

export async function checkUserspaceRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined): Promise<string> {
  const r = await node.exec(['iptables-save', '-t', 'nat'], { allowFailure: true });
  if (r.code !== 0) throw new CheckFailed(`${node.name}: iptables-save failed: ${r.stderr.trim()}`);
  const dump = parseIptablesSave(r.stdout);
  const container = findChain(dump, 'nat', 'KUBE-PORTALS-CONTAINER');
  if (!container) throw new CheckFailed(`${node.name}: nat KUBE-PORTALS-CONTAINER does not exist (is the userspace proxy running?)`);
  const ns = spec.namespace ?? 'default';
  const mine = container.rules.filter((x) => x.comment?.startsWith(`${ns}/${spec.service}`));
  if (spec.absent) {
    if (mine.length) throw new CheckFailed(`${node.name}: KUBE-PORTALS-CONTAINER still has ${mine[0].raw}`);
    return `no portal for ${ns}/${spec.service}`;
  }
  const w = want!;
  const rule = mine.find((x) => x.args.includes(`${w.clusterIP}/32`) && x.args.includes(String(w.port)));
  if (!rule) throw new CheckFailed(`${node.name}: KUBE-PORTALS-CONTAINER has no portal for ${w.clusterIP}:${w.port}`);
  const to = rule.args[rule.args.indexOf(rule.target === 'REDIRECT' ? '--to-ports' : '--to-destination') + 1];
  const host = findChain(dump, 'nat', 'KUBE-PORTALS-HOST')?.rules.some((x) => x.args.includes(`${w.clusterIP}/32`));
  if (!host) throw new CheckFailed(`${node.name}: KUBE-PORTALS-HOST has no portal for ${w.clusterIP}:${w.port}`);
  return `KUBE-PORTALS-CONTAINER ${w.clusterIP}:${w.port} → ${rule.target} ${to} (proxy port), KUBE-PORTALS-HOST too`;
}
