// IPVS mode, read back as a learner would: `ipvsadm -Ln` lists a virtual
// server per ClusterIP:port with the pods as real servers, and the ClusterIP
// sits on the kube-ipvs0 dummy link.
import type { LabNode } from '../../cluster/driver.ts';
import { CheckFailed } from '../retry.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from './proxy-rules.ts';

/** `ipvsadm -Ln` → virtual server "TCP 10.96.0.10:53" → real servers ["10.244.1.2:53"]. */
export function parseIpvsadmList(text: string): Map<string, { scheduler: string; reals: string[] }> {
  const out = new Map<string, { scheduler: string; reals: string[] }>();
  let current: { scheduler: string; reals: string[] } | undefined;
  for (const line of text.split('\n')) {
    const vs = line.match(/^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)/);
    if (vs) {
      current = { scheduler: vs[3], reals: [] };
      out.set(`${vs[1]} ${vs[2]}`, current);
      continue;
    }
    const rs = line.match(/^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+\S+\s+(\d+)/);
    if (rs && current && Number(rs[2]) > 0) current.reals.push(rs[1]);
  }
  return out;
}

export async function checkIpvsRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined): Promise<string> {
  const r = await node.exec(['ipvsadm', '-Ln'], { allowFailure: true });
  if (r.code !== 0) throw new CheckFailed(`${node.name}: ipvsadm -Ln failed: ${r.stderr.trim()}`);
  const table = parseIpvsadmList(r.stdout);
  const addrs = (await node.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'kube-ipvs0'], { allowFailure: true })).stdout;
  if (spec.absent) {
    const svcIP = spec.namespace; // unknown once deleted: check no VS has our former endpoints is not possible; rely on the API
    void svcIP;
    return 'service absent from the API (IPVS virtual servers are checked while it exists)';
  }
  const w = want!;
  const key = `${w.protocol} ${w.clusterIP}:${w.port}`;
  const vs = table.get(key);
  if (!vs) throw new CheckFailed(`${node.name}: ipvsadm -Ln has no virtual server ${key}`);
  const wantReals = w.endpoints.map((e) => `${e.ip}:${e.port}`).sort();
  if (JSON.stringify([...vs.reals].sort()) !== JSON.stringify(wantReals)) {
    throw new CheckFailed(`${node.name}: ${key} has real servers ${vs.reals.join(', ') || '(none)'}, expected ${wantReals.join(', ')}`);
  }
  if (!addrs.includes(` ${w.clusterIP}/32`)) throw new CheckFailed(`${node.name}: ${w.clusterIP} is not on kube-ipvs0`);
  return `${key} ${vs.scheduler} → ${vs.reals.join(', ')}; ${w.clusterIP} on kube-ipvs0`;
}
