// Whether a rule of `iptables-save` can match a given packet, evaluated from
// the rule text alone: addresses, ports, protocol, conntrack state, the
// masquerade mark and local addresses. What only the kernel knows (statistic,
// recent, ipset, interfaces) is 'unknown', so each caller decides: the trace
// leaves it to the packet counters, the tests' packet tracer to its own rules.
import type { Packet } from '../conntrack.ts';
import type { ParsedRule, RuleOption } from './save-parse.ts';
import { cidrContains, parseCidr } from '../../util/cidr.ts';

export type Tri = 'yes' | 'no' | 'unknown';

export interface PacketState {
  packet: Packet;
  mark: number;
  /** conntrack states and statuses this packet has: NEW, plus DNAT/SNAT once translated. */
  ct: Set<string>;
  local: (ip: string) => boolean | undefined;
}

const and = (a: Tri, b: Tri): Tri => (a === 'no' || b === 'no' ? 'no' : a === 'unknown' || b === 'unknown' ? 'unknown' : 'yes');
const neg = (negated: boolean, v: boolean): Tri => ((v !== negated) ? 'yes' : 'no');

function inCidr(text: string, ip: string): boolean {
  try {
    return cidrContains(parseCidr(text.includes('/') ? text : `${text}/32`, true), ip);
  } catch {
    return false;
  }
}

function portIn(spec: string, port: number | undefined): boolean | undefined {
  if (port === undefined) return undefined;
  return spec.split(',').some((part) => {
    const [a, b] = part.split(':').map(Number);
    return b === undefined ? port === a : port >= a && port <= b;
  });
}

function optionTri(o: RuleOption, v: boolean | undefined): Tri {
  return v === undefined ? 'unknown' : neg(o.negated, v);
}

function matchTri(name: string, options: RuleOption[], s: PacketState): Tri {
  const p = s.packet;
  let r: Tri = 'yes';
  for (const o of options) {
    let t: Tri = 'unknown';
    const v = o.values[0] ?? '';
    switch (name) {
      case 'comment':
        t = 'yes';
        break;
      case 'tcp':
      case 'udp':
      case 'sctp':
        if (o.name === '--dport') t = optionTri(o, portIn(v, p.dport));
        else if (o.name === '--sport') t = optionTri(o, portIn(v, p.sport));
        else if (o.name === '--syn') t = neg(o.negated, true); // the walk follows the connection's first packet
        break;
      case 'multiport':
        if (o.name === '--dports') t = optionTri(o, portIn(v, p.dport));
        else if (o.name === '--sports') t = optionTri(o, portIn(v, p.sport));
        else if (o.name === '--ports') t = optionTri(o, Boolean(portIn(v, p.dport) || portIn(v, p.sport)));
        break;
      case 'mark': {
        const [val, mask] = v.split('/').map((x) => Number(BigInt(x)));
        if (o.name === '--mark') t = neg(o.negated, ((s.mark & (mask ?? 0xffffffff)) >>> 0) === val >>> 0);
        break;
      }
      case 'conntrack':
      case 'state':
        if (o.name === '--ctstate' || o.name === '--state') t = neg(o.negated, v.split(',').some((st) => s.ct.has(st)));
        break;
      case 'addrtype':
        if (v === 'LOCAL' && (o.name === '--dst-type' || o.name === '--src-type')) {
          t = optionTri(o, s.local(o.name === '--dst-type' ? p.dst : p.src));
        }
        break;
    }
    r = and(r, t);
    if (r === 'no') return r;
  }
  return options.length === 0 && name !== 'comment' && !['tcp', 'udp', 'sctp', 'multiport'].includes(name) ? 'unknown' : r;
}

/** Can this packet match the rule? 'unknown' when it depends on something only the counters know. */
export function ruleMatches(rule: ParsedRule, s: PacketState): Tri {
  const p = s.packet;
  let r: Tri = 'yes';
  for (const [key, b] of rule.basic) {
    if (key === '-s') r = and(r, neg(b.negated, inCidr(b.value, p.src)));
    else if (key === '-d') r = and(r, neg(b.negated, inCidr(b.value, p.dst)));
    else if (key === '-p') r = and(r, neg(b.negated, b.value.toLowerCase() === p.proto || b.value === 'all'));
    else r = and(r, 'unknown'); // -i / -o: interface names are the node's business
  }
  for (const m of rule.matches) {
    r = and(r, matchTri(m.name, m.options, s));
    if (r === 'no') break;
  }
  return r;
}
