// The nftables-mode walk, read back with `nft -j list table ip kube-proxy`:
// service-ips maps ClusterIP . proto . port to the service chain, which picks
// an endpoint chain with numgen; each endpoint chain DNATs to a pod.
import type { LabNode } from '../../cluster/driver.ts';
import { CheckFailed } from '../../util/errors.ts';
import { chainRules, findElements, parseNftJson } from './list-parse.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from '../rules-check.ts';

export async function checkNftRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined): Promise<string> {
  const r = await node.exec(['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], { allowFailure: true });
  if (r.code !== 0) throw new CheckFailed(`${node.name}: table ip kube-proxy is missing: ${r.stderr.trim()}`);
  const view = parseNftJson(r.stdout);
  const ns = spec.namespace ?? 'default';
  const ref = new RegExp(`-${ns}/${spec.service}/`);
  if (spec.absent) {
    const left = findElements(view, 'service-ips', { value: ref });
    // Upstream empties a removed service's chains at once and deletes them in a
    // later sync (after the kernel has let go of references): empty is gone.
    const chains = [...view.chains.keys()].filter((c) => ref.test(c));
    const live = chains.filter((c) => chainRules(view, c).length > 0);
    if (left.length || live.length) throw new CheckFailed(`${node.name}: still programmed: ${[...left.map((e) => `${e.key} : ${e.value}`), ...live].join(', ')}`);
    return `no service-ips element for ${ns}/${spec.service}${chains.length ? ` (${chains.length} emptied chains await deletion at the next sync)` : ', no chains'}`;
  }
  const w = want!;
  const key = `${w.clusterIP} . ${w.protocol.toLowerCase()} . ${w.port}`;
  const el = findElements(view, 'service-ips', { key })[0];
  if (!el?.value) throw new CheckFailed(`${node.name}: service-ips has no element ${key}`);
  const svcChain = el.value.replace(/^goto\s+/, '');
  const rules = chainRules(view, svcChain);
  const dispatch = rules.find((t) => t.includes('numgen')) ?? rules.find((t) => /goto endpoint-/.test(t)) ?? '';
  const epChains = [...dispatch.matchAll(/goto (endpoint-[^\s,}]+)/g)].map((m) => m[1]);
  if (epChains.length !== w.endpoints.length) {
    throw new CheckFailed(`${node.name}: ${svcChain} dispatches to ${epChains.length} endpoint chains, the service has ${w.endpoints.length} ready endpoints: ${dispatch}`);
  }
  const dnat = new Set<string>();
  for (const c of epChains) {
    const d = chainRules(view, c).find((t) => t.includes('dnat'));
    const to = d?.match(/dnat to ([0-9.]+:\d+)/)?.[1];
    if (!to) throw new CheckFailed(`${node.name}: ${c} has no dnat rule (${chainRules(view, c).join(' | ')})`);
    dnat.add(to);
  }
  const missing = w.endpoints.map((e) => `${e.ip}:${e.port}`).filter((x) => !dnat.has(x));
  if (missing.length) throw new CheckFailed(`${node.name}: no endpoint chain DNATs to ${missing.join(', ')}`);
  let np = '';
  if (spec.nodePort) {
    if (!w.nodePort) throw new CheckFailed(`service ${w.ns}/${w.name} has no nodePort`);
    const nkey = `${w.protocol.toLowerCase()} . ${w.nodePort}`;
    const nel = findElements(view, 'service-nodeports', { key: nkey })[0];
    if (!nel?.value) throw new CheckFailed(`${node.name}: service-nodeports has no element ${nkey}`);
    const ext = nel.value.replace(/^goto\s+/, '');
    const local = w.externalTrafficPolicy === 'Local';
    const hasLocal = w.endpoints.some((e) => e.nodeName === node.name);
    const leadsLocal = chainRules(view, ext).some((t) => /(goto|jump) local-/.test(t));
    if (local && !hasLocal) {
      // No local endpoint: upstream sends external traffic nowhere (no local- chain) and lists the port in no-endpoint-nodeports.
      if (leadsLocal) throw new CheckFailed(`${node.name} runs no endpoint, yet ${ext} leads to a local- chain`);
      const drop = findElements(view, 'no-endpoint-nodeports', { key: nkey })[0];
      if (!drop) throw new CheckFailed(`${node.name} runs no endpoint of ${w.key}, but no-endpoint-nodeports has no ${nkey}`);
      np = `; ${node.name}: no local endpoint → no-endpoint-nodeports ${nkey} : ${drop.value}`;
    } else {
      const next = local ? /(goto|jump) local-/ : new RegExp(`goto ${svcChain.replace(/[/.]/g, '\\$&')}`);
      if (!chainRules(view, ext).some((t) => next.test(t))) throw new CheckFailed(`${node.name}: ${ext} does not lead to the ${local ? 'local' : 'service'} chain: ${chainRules(view, ext).join(' | ')}`);
      np = `; service-nodeports ${nkey} → ${ext}${local ? ' → local- chain (local endpoints only)' : ''}`;
    }
  }
  return `service-ips ${key} → ${svcChain} → ${epChains.length} endpoint chain(s)${epChains.length > 1 ? ' (numgen random)' : ''} → dnat ${[...dnat].join(', ')}${np}`;
}
