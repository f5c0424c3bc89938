// iptables mode, read back as a learner would: `iptables-save -t nat` and the
// chain walk KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, with the probability
// cascade upstream writes, and for a NodePort KUBE-NODEPORTS → KUBE-EXT.
import type { LabNode } from '../../cluster/driver.ts';
import { CheckFailed } from '../../util/errors.ts';
import { findChain, parseIptablesSave, type SavedDump } from './save-parse.ts';
import { externalChainName, localPolicyChainName, servicePortChainName } from '../chain-names.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from '../rules-check.ts';

async function iptablesSave(node: LabNode): Promise<SavedDump> {
  const r = await node.exec(['iptables-save', '-t', 'nat'], { allowFailure: true });
  if (r.code !== 0) throw new CheckFailed(`iptables-save failed on ${node.name}: ${r.stderr.trim()}`);
  return parseIptablesSave(r.stdout);
}

export async function checkIptablesRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined): Promise<string> {
  const dump = await iptablesSave(node);
  const services = findChain(dump, 'nat', 'KUBE-SERVICES');
  if (!services) throw new CheckFailed(`${node.name}: nat KUBE-SERVICES does not exist (is kube-proxy running?)`);
  const ns = spec.namespace ?? 'default';
  const mentions = services.rules.filter((r) => r.comment?.startsWith(`${ns}/${spec.service}`) && /cluster IP$/.test(r.comment ?? ''));
  if (spec.absent) {
    if (mentions.length) throw new CheckFailed(`${node.name}: KUBE-SERVICES still has ${mentions[0].raw}`);
    const left = dump.tables.find((t) => t.name === 'nat')?.chains.filter((c) => c.rules.some((r) => r.comment?.startsWith(`${ns}/${spec.service}`))) ?? [];
    if (left.length) throw new CheckFailed(`${node.name}: chains still mention ${ns}/${spec.service}: ${left.map((c) => c.name).join(', ')}`);
    return `no KUBE-SERVICES rule and no chain for ${ns}/${spec.service}`;
  }
  const w = want!;
  const svcChain = servicePortChainName(w.key, w.protocol.toLowerCase());
  const hook = services.rules.find((r) => r.jump === svcChain);
  if (!hook) throw new CheckFailed(`${node.name}: KUBE-SERVICES has no jump to ${svcChain} (${w.key} cluster IP ${w.clusterIP}:${w.port})`);
  if (!hook.args.includes(`${w.clusterIP}/32`) || !hook.args.includes(String(w.port))) {
    throw new CheckFailed(`${node.name}: KUBE-SERVICES → ${svcChain} does not match ${w.clusterIP}:${w.port}: ${hook.raw}`);
  }
  const chain = findChain(dump, 'nat', svcChain);
  if (!chain) throw new CheckFailed(`${node.name}: chain ${svcChain} does not exist`);
  const sepJumps = chain.rules.filter((r) => r.jump?.startsWith('KUBE-SEP-'));
  if (sepJumps.length !== w.endpoints.length) {
    throw new CheckFailed(`${node.name}: ${svcChain} jumps to ${sepJumps.length} KUBE-SEP chains, the service has ${w.endpoints.length} ready endpoints`);
  }
  // The cascade: endpoint i of n is picked with probability 1/(n-i); the last has no statistic match.
  sepJumps.forEach((r, i) => {
    const n = sepJumps.length;
    const prob = r.args[r.args.indexOf('--probability') + 1];
    if (i < n - 1) {
      if (!r.args.includes('--probability') || Math.abs(Number(prob) - 1 / (n - i)) > 1e-6) {
        throw new CheckFailed(`${node.name}: rule ${i + 1} of ${svcChain} should have --probability ${(1 / (n - i)).toFixed(10)}: ${r.raw}`);
      }
    } else if (r.args.includes('--probability')) throw new CheckFailed(`${node.name}: the last rule of ${svcChain} should have no probability: ${r.raw}`);
  });
  const dnat = new Set<string>();
  for (const r of sepJumps) {
    const sep = findChain(dump, 'nat', r.jump!);
    const rule = sep?.rules.find((x) => x.target === 'DNAT');
    const to = rule?.args[rule.args.indexOf('--to-destination') + 1];
    if (!to) throw new CheckFailed(`${node.name}: ${r.jump} has no DNAT rule`);
    dnat.add(to);
  }
  const wantTo = new Set(w.endpoints.map((e) => `${e.ip}:${e.port}`));
  const missing = [...wantTo].filter((x) => !dnat.has(x));
  if (missing.length) throw new CheckFailed(`${node.name}: no KUBE-SEP DNATs to ${missing.join(', ')} (the rules DNAT to ${[...dnat].join(', ')})`);
  const probs = sepJumps.slice(0, -1).map((r) => r.args[r.args.indexOf('--probability') + 1]);
  const np = spec.nodePort ? `; ${await checkIptablesNodePort(node, dump, w, svcChain)}` : '';
  return `KUBE-SERVICES ${w.clusterIP}:${w.port} → ${svcChain} → ${sepJumps.length} KUBE-SEP${probs.length ? ` (probability ${probs.join(', ')})` : ''} → DNAT ${[...dnat].join(', ')}${np}`;
}

/**
 * KUBE-NODEPORTS --dport N → KUBE-EXT → (masquerade) → KUBE-SVC (Cluster), or
 * → KUBE-SVL when this node runs an endpoint (Local); a Local node without one
 * drops the NodePort in filter KUBE-EXTERNAL-SERVICES instead.
 */
async function checkIptablesNodePort(node: LabNode, dump: SavedDump, w: ExpectedServicePort, svcChain: string): Promise<string> {
  if (!w.nodePort) throw new CheckFailed(`service ${w.ns}/${w.name} has no nodePort`);
  const np = findChain(dump, 'nat', 'KUBE-NODEPORTS');
  const proto = w.protocol.toLowerCase();
  const extChain = externalChainName(w.key, proto);
  const hook = np?.rules.find((r) => r.jump === extChain && r.args.includes(String(w.nodePort)));
  if (!hook) throw new CheckFailed(`${node.name}: KUBE-NODEPORTS has no --dport ${w.nodePort} jump to ${extChain}`);
  const ext = findChain(dump, 'nat', extChain);
  if (!ext) throw new CheckFailed(`${node.name}: chain ${extChain} does not exist`);
  const masq = ext.rules.some((r) => r.jump === 'KUBE-MARK-MASQ');
  if (w.externalTrafficPolicy !== 'Local') {
    if (!ext.rules.some((r) => r.jump === svcChain)) throw new CheckFailed(`${node.name}: ${extChain} does not jump to ${svcChain}`);
    if (!masq) throw new CheckFailed(`${node.name}: ${extChain} does not mark external traffic for masquerade (eTP Cluster)`);
    return `KUBE-NODEPORTS :${w.nodePort} → ${extChain} (KUBE-MARK-MASQ) → ${svcChain}`;
  }
  const svl = localPolicyChainName(w.key, proto);
  const hasLocal = w.endpoints.some((e) => e.nodeName === node.name);
  const jumpsSvl = ext.rules.some((r) => r.jump === svl);
  if (hasLocal) {
    if (!jumpsSvl) throw new CheckFailed(`${node.name} runs an endpoint but ${extChain} does not jump to ${svl}`);
    return `KUBE-NODEPORTS :${w.nodePort} → ${extChain} → ${svl} (local endpoints only, client address kept)`;
  }
  if (jumpsSvl) throw new CheckFailed(`${node.name} runs no endpoint, yet ${extChain} jumps to ${svl}`);
  const filter = await node.exec(['iptables-save', '-t', 'filter'], { allowFailure: true });
  const ext2 = findChain(parseIptablesSave(filter.stdout), 'filter', 'KUBE-EXTERNAL-SERVICES');
  const drop = ext2?.rules.find((r) => r.target === 'DROP' && r.args.includes(String(w.nodePort)) && /has no local endpoints/.test(r.comment ?? ''));
  if (!drop) throw new CheckFailed(`${node.name} runs no endpoint of ${w.key}, but filter KUBE-EXTERNAL-SERVICES has no DROP for :${w.nodePort}`);
  return `${node.name}: no local endpoint → filter KUBE-EXTERNAL-SERVICES DROPs :${w.nodePort} ("${drop.comment}")`;
}
