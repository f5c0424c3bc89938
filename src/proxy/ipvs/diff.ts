// The minimal set of commands that turns the kernel's IPVS table, ipsets and
// kube-ipvs0 addresses into the rendered ones, so a sync touches only what
// changed. Real-server removal follows upstream's GracefulTerminationManager:
// delete at once when nothing uses it (or for UDP/SCTP, which
// expire_nodest_conn cleans up), else weight 0 first and delete on a later sync.
import { canonicalEntry } from './ipsets.ts';
import { ipsetCreateLine, realServerLine, serviceLine, sortRealServers, sortVirtualServers, vsTarget } from './text.ts';
import type { IpSet, IpvsRuleset, RealServer, VirtualServer } from './types.ts';

/** What is in the kernel now, as read back by the parsers. */
export interface IpvsKernelState {
  virtualServers: VirtualServer[];
  ipsets: IpSet[];
  dummyAddresses: string[];
  /** kube-ipvs0 exists (its addresses could be listed). */
  dummyPresent?: boolean;
}

export interface IpvsPlan {
  /** ipvsadm-restore lines, in order: -A/-E, -a/-e, -d, -D. */
  ipvsadm: string[];
  /** `ipset restore -exist` lines: create for missing sets, then del/add per set. */
  ipset: string[];
  /** Addresses to add to / remove from kube-ipvs0 (without prefix). */
  addrAdd: string[];
  addrDel: string[];
  /** "vs -> rs" pairs left at weight 0 until their connections drain. */
  draining: string[];
  /** Sets that exist with another type; ipset cannot change a type in place. */
  conflicts: string[];
}

const key = (vs: Pick<VirtualServer, 'proto' | 'address' | 'port'>) => `${vs.proto} ${vs.address}:${vs.port}`;
const rsKey = (rs: RealServer) => `${rs.address}:${rs.port}`;

function sameService(a: VirtualServer, b: VirtualServer): boolean {
  const fa = [...a.flags].sort().join(',');
  const fb = [...b.flags].sort().join(',');
  return a.scheduler === b.scheduler && fa === fb && (a.persistentTimeout ?? 0) === (b.persistentTimeout ?? 0);
}

/** Upstream IsRsGracefulTerminationNeeded: only TCP waits for connections to drain. */
const gracefulNeeded = (vs: VirtualServer) => vs.proto === 'TCP';

export function isNoop(plan: IpvsPlan): boolean {
  return !plan.ipvsadm.length && !plan.ipset.length && !plan.addrAdd.length && !plan.addrDel.length;
}

export function diffIpvs(current: IpvsKernelState, desired: Pick<IpvsRuleset, 'virtualServers' | 'ipsets' | 'dummyAddresses'>): IpvsPlan {
  const plan: IpvsPlan = { ipvsadm: [], ipset: [], addrAdd: [], addrDel: [], draining: [], conflicts: [] };
  const cur = new Map(current.virtualServers.map((v) => [key(v), v]));
  // Two service ports may render the same virtual server; as upstream, the last one written wins.
  const want = new Map(desired.virtualServers.map((v) => [key(v), v]));
  const services: string[] = [];
  const adds: string[] = [];
  const dels: string[] = [];

  for (const vs of sortVirtualServers([...want.values()])) {
    const have = cur.get(key(vs));
    if (!have) services.push(serviceLine('-A', vs));
    else if (!sameService(have, vs)) services.push(serviceLine('-E', vs));
    const haveRS = new Map((have?.realServers ?? []).map((r) => [rsKey(r), r]));
    const wantRS = new Set(vs.realServers.map(rsKey));
    for (const rs of sortRealServers(vs.realServers)) {
      const h = haveRS.get(rsKey(rs));
      if (!h) adds.push(realServerLine('-a', vs, rs));
      // A real server coming back while draining is restored to full weight.
      else if (h.weight !== rs.weight) adds.push(realServerLine('-e', vs, rs));
    }
    for (const h of sortRealServers([...haveRS.values()])) {
      if (wantRS.has(rsKey(h))) continue;
      const conns = (h.activeConn ?? 0) + (h.inactConn ?? 0);
      if (!gracefulNeeded(vs) || conns === 0) dels.push(`-d ${vsTarget(vs)} -r ${rsKey(h)}`);
      else {
        if (h.weight !== 0) adds.push(realServerLine('-e', vs, { ...h, weight: 0 }));
        plan.draining.push(`${key(vs)} -> ${rsKey(h)}`);
      }
    }
  }
  const stale = sortVirtualServers(current.virtualServers.filter((v) => !want.has(key(v)) && !v.address.includes(':')));
  plan.ipvsadm = [...services, ...adds, ...dels, ...stale.map((v) => `-D ${vsTarget(v)}`)];

  const curSets = new Map(current.ipsets.map((s) => [s.name, s]));
  const creates: string[] = [];
  const entries: string[] = [];
  for (const set of desired.ipsets) {
    const have = curSets.get(set.name);
    if (have && have.type !== set.type) {
      plan.conflicts.push(`ipset ${set.name} exists with type ${have.type}; kube-proxy needs ${set.type}`);
      continue;
    }
    if (!have) creates.push(ipsetCreateLine(set));
    const haveE = new Set((have?.entries ?? []).map((e) => canonicalEntry(set.type, e)));
    const wantE = new Set(set.entries.map((e) => canonicalEntry(set.type, e)));
    for (const e of [...haveE].sort()) if (!wantE.has(e)) entries.push(`del ${set.name} ${e}`);
    for (const e of [...wantE].sort()) if (!haveE.has(e)) entries.push(`add ${set.name} ${e}`);
  }
  plan.ipset = [...creates, ...entries];

  const haveAddr = new Set(current.dummyAddresses);
  const wantAddr = new Set(desired.dummyAddresses);
  plan.addrAdd = desired.dummyAddresses.filter((a) => !haveAddr.has(a));
  plan.addrDel = current.dummyAddresses.filter((a) => !wantAddr.has(a));
  return plan;
}
