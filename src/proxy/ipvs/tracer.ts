// IPVS mode in `svclab trace`: IPVS schedules the connection itself, so its
// own connection table (`ipvsadm -Lnc`, read right after the connection,
// before the entry expires) names the real server; conntrack's reply tuple
// is the fallback. The iptables rules IPVS mode keeps (masquerade, NodePort
// ipsets) are walked from their counters like iptables mode's.
import { conntrackBackend, type Backend } from '../trace-model.ts';
import type { EntryFindings, ModeTracer, Route, TracePlan } from '../tracer.ts';
import { parseIpvsConnections, type IpvsConnection } from './connections.ts';

/** The traced connection's IPVS entry: its virtual service and, when known, its client port. */
export function findIpvsConnection(table: string, plan: Pick<TracePlan, 'dst' | 'dport'>, found: Pick<EntryFindings, 'packet' | 'sport'>): IpvsConnection | undefined {
  return parseIpvsConnections(table).find((c) => c.virtual === `${plan.dst}:${plan.dport}` && (!found.sport || c.client === `${found.packet.src}:${found.sport}`));
}

function realServer(c: IpvsConnection): Backend {
  const i = c.real.lastIndexOf(':');
  return { ip: c.real.slice(0, i), port: Number(c.real.slice(i + 1)), source: 'ipvs' };
}

export const ipvsTracer: ModeTracer = {
  countsRules: true,
  open(plan: TracePlan) {
    let table = '';
    return {
      async afterConnection() {
        table = (await plan.entry.exec(['ipvsadm', '-Lnc'], { allowFailure: true })).stdout;
      },
      route(entry, found): Route {
        const conn = findIpvsConnection(table, plan, found);
        if (conn) entry.ipvs = conn;
        return { backend: conn ? realServer(conn) : conntrackBackend(found.mine), notes: [] };
      },
    };
  },
};
