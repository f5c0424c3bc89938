// iptables mode in `svclab trace`: the path is read from the rules' packet
// counters (the orchestration saves them around the connection and walks
// them, see walk.ts); where the connection went is conntrack's reply tuple,
// since DNAT is what picked the endpoint.
import { conntrackBackend } from '../trace-model.ts';
import type { ModeTracer } from '../tracer.ts';

export const iptablesTracer: ModeTracer = {
  countsRules: true,
  open: () => ({
    route: (_entry, found) => ({ backend: conntrackBackend(found.mine), notes: [] }),
  }),
};
