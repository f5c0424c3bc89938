// IPVS mode, read back as a learner would: `ipvsadm -Ln` lists a virtual
// server per ClusterIP:port (and per node address for a NodePort) with the
// pods as real servers, the ClusterIP sits on the kube-ipvs0 dummy link, and
// `ipset save` holds the service in KUBE-CLUSTER-IP (the NodePort in
// KUBE-NODE-PORT-TCP) for the few constant iptables rules to match.
import type { LabNode } from '../../cluster/driver.ts';
import { parseDeviceAddresses, parseIpsetSave, parseIpvsadmList } from './parse.ts';
import { entryIPPort, KUBE_CLUSTER_IP, KUBE_NODE_PORT_TCP, KUBE_NODE_PORT_UDP } from './ipsets.ts';
import type { IpSet, VirtualServer } from './types.ts';
import { CheckFailed } from '../../util/errors.ts';
import type { ExpectedServicePort, ProxyRulesSpec } from '../rules-check.ts';

interface IpvsState {
  virtualServers: Map<string, VirtualServer>;
  onDevice: Set<string>;
  sets: Map<string, IpSet>;
}

const vsKey = (proto: string, ip: string, port: number) => `${proto} ${ip}:${port}`;

async function readIpvsState(node: LabNode): Promise<IpvsState> {
  const list = await node.exec(['ipvsadm', '-Ln'], { allowFailure: true });
  if (list.code !== 0) throw new CheckFailed(`${node.name}: ipvsadm -Ln failed: ${list.stderr.trim()}`);
  const sets = await node.exec(['ipset', 'save'], { allowFailure: true });
  if (sets.code !== 0) throw new CheckFailed(`${node.name}: ipset save failed: ${sets.stderr.trim()}`);
  const addrs = await node.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'kube-ipvs0'], { allowFailure: true });
  if (addrs.code !== 0) throw new CheckFailed(`${node.name}: no kube-ipvs0 link: ${addrs.stderr.trim()}`);
  return {
    virtualServers: new Map(parseIpvsadmList(list.stdout).map((vs) => [vsKey(vs.proto, vs.address, vs.port), vs])),
    onDevice: new Set(parseDeviceAddresses(addrs.stdout)),
    sets: new Map(parseIpsetSave(sets.stdout).map((s) => [s.name, s])),
  };
}

/** Real servers taking new connections (weight 0 = being drained, as upstream's graceful termination leaves them). */
const activeReals = (vs: VirtualServer) => vs.realServers.filter((r) => r.weight > 0).map((r) => `${r.address}:${r.port}`).sort();

function hasEntry(state: IpvsState, set: string, entry: string): boolean {
  return state.sets.get(set)?.entries.includes(entry) ?? false;
}

/**
 * `former` is the service port as an earlier check of this scenario saw it:
 * IPVS names nothing after the Service, so "absent" means its former
 * ClusterIP:port is gone from every place it was.
 */
export async function checkIpvsRules(node: LabNode, spec: ProxyRulesSpec, want: ExpectedServicePort | undefined, former?: ExpectedServicePort): Promise<string> {
  const state = await readIpvsState(node);
  if (spec.absent) {
    if (!former) {
      throw new CheckFailed(`in IPVS mode an absent check needs an earlier proxy-rules check of ${spec.service} in the scenario (IPVS keeps addresses, not names)`);
    }
    const key = vsKey(former.protocol, former.clusterIP, former.port);
    const left: string[] = [];
    if (state.virtualServers.has(key)) left.push(`virtual server ${key}`);
    if (hasEntry(state, KUBE_CLUSTER_IP, entryIPPort(former.clusterIP, former.protocol, former.port))) left.push(`${KUBE_CLUSTER_IP} entry`);
    if (state.onDevice.has(former.clusterIP)) left.push(`${former.clusterIP} on kube-ipvs0`);
    if (left.length) throw new CheckFailed(`${node.name}: ${spec.service} was deleted but ${left.join(', ')} remain`);
    return `no virtual server ${key}, no ${KUBE_CLUSTER_IP} entry, ${former.clusterIP} not on kube-ipvs0`;
  }
  const w = want!;
  const wantReals = w.endpoints.map((e) => `${e.ip}:${e.port}`).sort();
  const checkVs = (ip: string, port: number, reals: string[]): VirtualServer => {
    const key = vsKey(w.protocol, ip, port);
    const vs = state.virtualServers.get(key);
    if (!vs) throw new CheckFailed(`${node.name}: ipvsadm -Ln has no virtual server ${key}`);
    const got = activeReals(vs);
    if (JSON.stringify(got) !== JSON.stringify(reals)) {
      throw new CheckFailed(`${node.name}: ${key} has real servers ${got.join(', ') || '(none)'}, expected ${reals.join(', ') || '(none)'}`);
    }
    return vs;
  };
  const vs = checkVs(w.clusterIP, w.port, wantReals);
  if (!state.onDevice.has(w.clusterIP)) throw new CheckFailed(`${node.name}: ${w.clusterIP} is not on kube-ipvs0`);
  const entry = entryIPPort(w.clusterIP, w.protocol, w.port);
  if (!hasEntry(state, KUBE_CLUSTER_IP, entry)) throw new CheckFailed(`${node.name}: ipset ${KUBE_CLUSTER_IP} has no entry ${entry}`);
  let summary = `${vsKey(w.protocol, w.clusterIP, w.port)} ${vs.scheduler} → ${activeReals(vs).join(', ') || '(none)'}; ${w.clusterIP} on kube-ipvs0; ${KUBE_CLUSTER_IP} ${entry}`;
  if (spec.nodePort) {
    if (!w.nodePort) throw new CheckFailed(`${spec.service} has no nodePort`);
    // eTP Local: a node balances to its own endpoints; with none, upstream's IPVS proxier
    // keeps all of them (kubernetes#97081) and the iptables rules decide what gets through.
    const local = w.endpoints.filter((e) => e.nodeName === node.name).map((e) => `${e.ip}:${e.port}`).sort();
    const reals = w.externalTrafficPolicy === 'Local' && local.length > 0 ? local : wantReals;
    checkVs(node.ip, w.nodePort, reals);
    const set = w.protocol === 'UDP' ? KUBE_NODE_PORT_UDP : KUBE_NODE_PORT_TCP;
    if (!hasEntry(state, set, String(w.nodePort))) throw new CheckFailed(`${node.name}: ipset ${set} has no entry ${w.nodePort}`);
    summary += `; NodePort ${vsKey(w.protocol, node.ip, w.nodePort)} → ${reals.length} real servers; ${set} ${w.nodePort}`;
  }
  return summary;
}
