// The node network of a VM lab: a bridge inside the lab's own network
// namespace ("svclab-<lab>-net", as on the netns driver), one tap per VM in
// that namespace, and the external client as a namespace on the same bridge.
// Nothing is created in the host's namespace: qemu itself runs inside the lab
// namespace and opens its tap there.
//
//   svclab-<lab>-net        br0 <gateway>/<len>, forwarding, no uplink
//     ├─ t-node-01 (tap) ── VM node-01 eth0
//     ├─ t-node-02 (tap) ── VM node-02 eth0
//     └─ v-external ─veth── eth0  svclab-<lab>-external
import { cidrString, parseCidr } from '../../util/cidr.ts';
import { run } from '../../util/exec.ts';
import { NETWORK_SYSCTLS } from '../common/sysctls.ts';
import { listNetns } from '../common/namespaces.ts';
import { netnsName, networkNetnsName, peerName } from '../common/names.ts';
import { tapName } from './names.ts';

export interface VmNetworkLayout {
  lab: string;
  nodeNetwork: string;
  gateway: string;
  /** podCIDR: the gateway routes it to the node, as a host-gw router would (so its refusals reach pods). */
  nodes: { name: string; ip: string; podCIDR?: string }[];
  external: { name: string; ip: string };
}

export interface NetStep {
  /** `ip netns add`, `ip -n NS -batch -` lines, sysctls in NS, or an iptables-restore payload in NS. */
  kind: 'netns' | 'ip' | 'sysctl' | 'iptables';
  netns: string;
  lines: string[];
}

/** The steps that make the lab's bridge and the external client (not the taps: those come with each VM). */
export function planNetwork(layout: VmNetworkLayout): NetStep[] {
  const net = networkNetnsName(layout.lab);
  const len = parseCidr(layout.nodeNetwork).prefix;
  const ext = netnsName(layout.lab, layout.external.name);
  const peer = peerName(layout.external.name, layout.nodes.length);
  return [
    { kind: 'netns', netns: net, lines: [] },
    { kind: 'ip', netns: net, lines: ['link set lo up', 'link add br0 type bridge', `addr add ${layout.gateway}/${len} dev br0`, 'link set br0 up'] },
    { kind: 'sysctl', netns: net, lines: NETWORK_SYSCTLS.map(([k, v]) => `${k}=${v}`) },
    // As on the netns driver: the gateway knows the pod routes, and what would
    // leave the lab (a deleted Service's ClusterIP, the internet) is delivered
    // locally and refused, not dropped, so "refused" vs "timeout" means the
    // same on both drivers — the refusal needs the route back to the pod.
    {
      kind: 'ip', netns: net, lines: [
        ...layout.nodes.filter((n) => n.podCIDR).map((n) => `route add ${cidrString(parseCidr(n.podCIDR!))} via ${n.ip} dev br0`),
        'route add local 0.0.0.0/0 dev lo table 100', 'rule add pref 32800 table 100',
      ],
    },
    {
      kind: 'iptables', netns: net, lines: [
        '*filter',
        '-A INPUT -p tcp -m comment --comment "svclab: the lab network has no outside" -j REJECT --reject-with tcp-reset',
        '-A INPUT -m comment --comment "svclab: the lab network has no outside" -j REJECT',
        'COMMIT',
      ],
    },
    { kind: 'netns', netns: ext, lines: [] },
    {
      kind: 'ip', netns: ext, lines: [
        'link set lo up', `link add eth0 type veth peer name ${peer} netns ${net}`,
        `addr add ${layout.external.ip}/${len} dev eth0`, 'link set eth0 up', `route add default via ${layout.gateway} dev eth0`,
      ],
    },
    { kind: 'ip', netns: net, lines: [`link set ${peer} master br0`, `link set ${peer} up`] },
  ];
}

/** The steps that plug one VM's tap into the bridge (before qemu opens it). */
export function planTap(lab: string, node: string, index: number): NetStep[] {
  const tap = tapName(node, index);
  return [{ kind: 'ip', netns: networkNetnsName(lab), lines: [`tuntap add dev ${tap} mode tap`, `link set ${tap} master br0`, `link set ${tap} up`] }];
}

export function renderNetSteps(steps: NetStep[]): string {
  return steps.map((s) => s.kind === 'netns' ? `ip netns add ${s.netns}`
    : s.kind === 'ip' ? [`ip -n ${s.netns} -batch -`, ...s.lines.map((l) => `    ${l}`)].join('\n')
      : s.kind === 'iptables' ? [`ip netns exec ${s.netns} iptables-restore`, ...s.lines.map((l) => `    ${l}`)].join('\n')
        : `ip netns exec ${s.netns} sysctl -w ${s.lines.join(' ')}`).join('\n') + '\n';
}

export async function applyNetSteps(steps: NetStep[]): Promise<void> {
  for (const s of steps) {
    if (s.kind === 'netns') await run(['ip', 'netns', 'add', s.netns], { where: 'host' });
    else if (s.kind === 'ip') await run(['ip', '-n', s.netns, '-batch', '-'], { input: s.lines.join('\n') + '\n', where: s.netns });
    else if (s.kind === 'iptables') await run(['ip', 'netns', 'exec', s.netns, 'iptables-restore'], { input: s.lines.join('\n') + '\n', where: s.netns });
    else await run(['ip', 'netns', 'exec', s.netns, 'sysctl', '-q', '-w', ...s.lines], { where: s.netns });
  }
}

/** Is the lab's bridge namespace there? */
export async function networkExists(lab: string): Promise<boolean> {
  return (await listNetns()).includes(networkNetnsName(lab));
}

/** Deletes the lab's network and external namespaces (taps and veths go with them). */
export async function deleteNetwork(lab: string, externalName = 'external'): Promise<string[]> {
  const present = new Set(await listNetns());
  const gone: string[] = [];
  for (const ns of [netnsName(lab, externalName), networkNetnsName(lab)]) {
    if (!present.has(ns)) continue;
    await run(['ip', 'netns', 'delete', ns], { where: 'host' });
    gone.push(ns);
  }
  return gone;
}
