// userspace mode in `svclab trace`: the portal rule REDIRECTs the client to
// the proxy's port on the entry node, and the proxy opens a second connection
// of its own to the endpoint it picked. That leg is found in the entry node's
// conntrack events (from a local address to an endpoint, during the trace);
// conntrack's reply to the client only points back at the proxy, so it never
// names the backend here.
import { latestPerConnection, natOf, type ConntrackEntry, type Packet } from '../conntrack.ts';
import { walkNode } from '../iptables/walk.ts';
import type { ProxyLeg } from '../trace-model.ts';
import type { EntryFindings, ModeTracer, Route, TracePlan } from '../tracer.ts';

/** Connections from the entry node to an endpoint that are not the client's: the proxy's leg (or probes). */
export function proxyLegs(found: Pick<EntryFindings, 'events' | 'mine' | 'addresses'>, endpoints: TracePlan['endpoints']): ConntrackEntry[] {
  const eps = new Set(endpoints.map((e) => `${e.ip}:${e.port}`));
  const local = new Set(found.addresses);
  return latestPerConnection(found.events.filter((e) => e !== found.mine && eps.has(`${e.original.dst}:${e.original.dport}`) && local.has(e.original.src)));
}

export const userspaceTracer: ModeTracer = {
  countsRules: true,
  open(plan: TracePlan) {
    return {
      route(entry, found): Route {
        const notes: string[] = [];
        const legs = proxyLegs(found, plan.endpoints);
        const proxy: ProxyLeg = { candidates: legs.length };
        const redirected = found.mine ? natOf(found.mine).dnat?.to : undefined;
        if (redirected) proxy.port = Number(redirected.split(':').pop());
        if (legs.length > 1) notes.push(`${legs.length} connections to the endpoints started on ${plan.entry.name} during the trace (kubelet probes?); the first is shown as the proxy's`);
        entry.proxy = proxy;
        const leg = legs[0];
        if (!leg) {
          if (found.connected && plan.endpoints.length) notes.push(`the proxy's connection to an endpoint was not seen in conntrack on ${plan.entry.name}`);
          return { notes };
        }
        proxy.conntrack = leg;
        const legPacket: Packet = { proto: 'tcp', src: leg.original.src, sport: leg.original.sport, dst: leg.original.dst, dport: leg.original.dport };
        if (found.counters) proxy.walk = walkNode(found.counters, legPacket, { origin: 'local', localAddrs: found.addresses });
        return {
          backend: { ip: leg.original.dst, port: leg.original.dport, source: 'userspace proxy' },
          hop: { proto: 'tcp', src: leg.reply.dst, sport: leg.reply.dport, dst: leg.reply.src, dport: leg.reply.sport },
          notes,
        };
      },
    };
  },
};
