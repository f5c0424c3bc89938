// The plan of a netns lab: which namespaces, links, addresses, routes and
// sysctls `up` creates, as plain data. Pure — no host access — so tests and a
// dry run can read exactly what `up` will do.
//
//   svclab-<lab>-net       br0 192.168.49.1/24, forwarding on, no uplink
//     ├─ v-node-01 ──veth── eth0 192.168.49.2  svclab-<lab>-node-01
//     ├─ v-node-02 ──veth── eth0 192.168.49.3  svclab-<lab>-node-02
//     └─ v-external ─veth── eth0 192.168.49.254 svclab-<lab>-external
import { cidrContains, cidrOverlap, cidrString, firstIP, lastIP, ipToBig, normalizeIP, parseCidr } from '../../util/cidr.ts';
import { LabFileError } from '../../util/errors.ts';
import { checkLabel, checkNodeName, netnsName, networkNetnsName, peerName } from '../common/names.ts';
import { NETWORK_SYSCTLS, NODE_SYSCTLS } from '../common/sysctls.ts';

/** A resolved lab layout, as the lab loader produces it for the netns driver. */
export interface NetnsLayout {
  lab: string;
  /** The node network, e.g. "192.168.49.0/24". */
  nodeNetwork: string;
  /** Its gateway (on the bridge in the network namespace), e.g. "192.168.49.1". */
  gateway: string;
  nodes: { name: string; ip: string; podCIDR: string }[];
  /** The external client: on the node network, not a Kubernetes node. */
  external: { name: string; ip: string };
}

export type NetnsAction =
  | { kind: 'netns'; netns: string; phase: string; detail: string }
  /** Lines for `ip -n <netns> -batch -`. */
  | { kind: 'ip'; netns: string; lines: string[]; phase: string; detail: string }
  /** `ip netns exec <netns> sysctl -w k=v …`. */
  | { kind: 'sysctl'; netns: string; values: [string, string][]; phase: string; detail: string }
  /** Lines for `ip netns exec <netns> iptables-restore --noflush`. */
  | { kind: 'iptables'; netns: string; lines: string[]; phase: string; detail: string };

export interface NetnsPlan {
  lab: string;
  network: string;
  members: { name: string; ip: string; netns: string; peer: string; node: boolean }[];
  actions: NetnsAction[];
}

/** The gateway's catch-all: a table after main (32766) whose only route makes every address local. */
const NOWHERE_TABLE = 100;
const NOWHERE_RULE_PREF = 32800;

export function planNetns(layout: NetnsLayout): NetnsPlan {
  validateLayout(layout);
  const net = parseCidr(layout.nodeNetwork);
  const lab = layout.lab;
  const network = networkNetnsName(lab);
  const gateway = normalizeIP(layout.gateway);
  const members = [
    ...layout.nodes.map((n) => ({ name: n.name, ip: normalizeIP(n.ip), node: true })),
    { name: layout.external.name, ip: normalizeIP(layout.external.ip), node: false },
  ].map((m, i) => ({ ...m, netns: netnsName(lab, m.name), peer: peerName(m.name, i) }));

  const actions: NetnsAction[] = [
    { kind: 'netns', netns: network, phase: 'network', detail: `${network} (bridge br0, gateway ${gateway})` },
    {
      kind: 'ip',
      netns: network,
      phase: 'network',
      detail: 'bridge br0',
      lines: ['link set lo up', 'link add name br0 type bridge', `addr add ${gateway}/${net.prefix} dev br0`, 'link set br0 up'],
    },
    { kind: 'sysctl', netns: network, values: NETWORK_SYSCTLS, phase: 'network', detail: 'forwarding' },
    // The node network has no outside. Its gateway knows the pod routes (as a
    // host-gw router would) and takes every other destination as its own (a
    // local route in a table consulted after main) only to refuse it: a
    // connection to an address nobody owns — a deleted Service's ClusterIP —
    // fails at once with "connection refused" instead of hanging.
    {
      kind: 'ip',
      netns: network,
      phase: 'network',
      detail: 'pod routes, nowhere else',
      lines: [
        ...layout.nodes.map((n) => `route add ${cidrString(parseCidr(n.podCIDR))} via ${normalizeIP(n.ip)} dev br0`),
        `route add local 0.0.0.0/0 dev lo table ${NOWHERE_TABLE}`,
        `rule add pref ${NOWHERE_RULE_PREF} table ${NOWHERE_TABLE}`,
      ],
    },
    {
      kind: 'iptables',
      netns: network,
      phase: 'network',
      detail: 'refuse what would leave the lab',
      lines: [
        '*filter',
        '-A INPUT -p tcp -m comment --comment "svclab: the lab network has no outside" -j REJECT --reject-with tcp-reset',
        '-A INPUT -m comment --comment "svclab: the lab network has no outside" -j REJECT',
        'COMMIT',
      ],
    },
  ];
  for (const m of members) {
    const phase = m.node ? 'node' : 'external';
    actions.push(
      { kind: 'netns', netns: m.netns, phase, detail: `${m.name} ${m.ip}` },
      {
        kind: 'ip',
        netns: m.netns,
        phase,
        detail: `${m.name} eth0`,
        // The veth is born inside the member's namespace with its peer placed
        // straight into the network namespace: nothing passes through the host's.
        // "name" is spelled out: ip matches keyword prefixes, so a bare
        // device name like "a" would read as "address".
        lines: [
          'link set lo up',
          `link add name eth0 type veth peer name ${m.peer} netns ${network}`,
          `addr add ${m.ip}/${net.prefix} dev eth0`,
          'link set eth0 up',
        ],
      },
      { kind: 'ip', netns: network, phase, detail: `${m.name} on br0`, lines: [`link set dev ${m.peer} master br0`, `link set dev ${m.peer} up`] },
      { kind: 'ip', netns: m.netns, phase, detail: `${m.name} routes`, lines: memberRoutes(layout, m.name, gateway) },
    );
    if (m.node) actions.push({ kind: 'sysctl', netns: m.netns, values: NODE_SYSCTLS, phase, detail: `${m.name} sysctls` });
  }
  return { lab, network, members, actions };
}

/** Default route via the gateway; on nodes, host-gw routes to every other node's pod CIDR. */
function memberRoutes(layout: NetnsLayout, name: string, gateway: string): string[] {
  const lines = [`route add default via ${gateway} dev eth0`];
  if (name === layout.external.name) return lines;
  for (const other of layout.nodes) {
    if (other.name === name) continue;
    lines.push(`route add ${cidrString(parseCidr(other.podCIDR))} via ${normalizeIP(other.ip)} dev eth0`);
  }
  return lines;
}

/** Renders the plan as the commands `up` runs, for a dry run and golden tests. */
export function renderNetnsPlan(plan: NetnsPlan): string {
  const out: string[] = [];
  for (const a of plan.actions) {
    if (a.kind === 'netns') out.push(`ip netns add ${a.netns}`);
    else if (a.kind === 'ip') out.push(`ip -n ${a.netns} -batch -`, ...a.lines.map((l) => `    ${l}`));
    else if (a.kind === 'iptables') out.push(`ip netns exec ${a.netns} iptables-restore --noflush`, ...a.lines.map((l) => `    ${l}`));
    else out.push(`ip netns exec ${a.netns} sysctl -w ${a.values.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return out.join('\n') + '\n';
}

function validateLayout(layout: NetnsLayout): void {
  checkLabel('lab', layout.lab);
  const where = `lab ${layout.lab}`;
  let net;
  try {
    net = parseCidr(layout.nodeNetwork);
  } catch (err) {
    throw new LabFileError(`${where}: nodeNetwork: ${(err as Error).message}`);
  }
  if (net.family !== 4) throw new LabFileError(`${where}: nodeNetwork ${layout.nodeNetwork}: the netns driver supports IPv4 only`);
  // Host addresses only: not the network address, not the broadcast address.
  const isHost = (ip: string) => cidrContains(net, ip) && ipToBig(ip) !== firstIP(net) && ipToBig(ip) !== lastIP(net);
  if (!normalizeIP(layout.gateway) || !isHost(layout.gateway)) {
    throw new LabFileError(`${where}: gateway ${layout.gateway} is not a host address of ${layout.nodeNetwork}`);
  }
  if (layout.nodes.length === 0) throw new LabFileError(`${where}: no nodes`);
  const names = new Set<string>();
  const ips = new Set<string>([normalizeIP(layout.gateway)]);
  const members = [...layout.nodes, layout.external];
  for (const m of members) {
    if (m === layout.external) checkLabel('external client', m.name);
    else checkNodeName(m.name);
    if (names.has(m.name)) throw new LabFileError(`${where}: two members are named "${m.name}"`);
    names.add(m.name);
    const ip = normalizeIP(m.ip);
    if (!ip || !isHost(ip)) throw new LabFileError(`${where}: ${m.name}: ${m.ip} is not a host address of ${layout.nodeNetwork}`);
    if (ips.has(ip)) throw new LabFileError(`${where}: ${m.name}: address ${ip} is already taken (by the gateway or another member)`);
    ips.add(ip);
  }
  const pods = layout.nodes.map((n) => {
    try {
      return { name: n.name, cidr: parseCidr(n.podCIDR) };
    } catch (err) {
      throw new LabFileError(`${where}: ${n.name}: podCIDR: ${(err as Error).message}`);
    }
  });
  for (const [i, a] of pods.entries()) {
    if (cidrOverlap(a.cidr, net)) throw new LabFileError(`${where}: ${a.name}: podCIDR ${cidrString(a.cidr)} overlaps the node network ${layout.nodeNetwork}`);
    for (const b of pods.slice(i + 1)) {
      if (cidrOverlap(a.cidr, b.cidr)) {
        throw new LabFileError(`${where}: podCIDRs of ${a.name} (${cidrString(a.cidr)}) and ${b.name} (${cidrString(b.cidr)}) overlap`);
      }
    }
  }
}
