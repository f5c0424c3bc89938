// The text forms of an IPVS ruleset: what `ipvsadm-restore` and `ipset restore`
// read, and what `ipvsadm -Ln` prints (for docs and scenario assertions).
// Formats follow ipvsadm's print_service_entry() and kube-proxy's ipset runner.
import { ipToBig } from '../../util/cidr.ts';
import type { Protocol } from '../model.ts';
import { IPSET_HASH_SIZE, IPSET_MAX_ELEM, IPSET_PORT_RANGE } from './ipsets.ts';
import type { IpSet, RealServer, VirtualServer } from './types.ts';

const PROTO_NUMBER: Record<Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };
export const PROTO_FLAG: Record<Protocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** ipvsadm's list order (ipvs_cmp_services): protocol number, then address, then port. */
export function sortVirtualServers(vs: VirtualServer[]): VirtualServer[] {
  return [...vs].sort(
    (a, b) => PROTO_NUMBER[a.proto] - PROTO_NUMBER[b.proto] || cmpBig(ipToBig(a.address), ipToBig(b.address)) || a.port - b.port,
  );
}

export function sortRealServers(rs: RealServer[]): RealServer[] {
  return [...rs].sort((a, b) => cmpBig(ipToBig(a.address), ipToBig(b.address)) || a.port - b.port);
}

export const vsTarget = (vs: Pick<VirtualServer, 'proto' | 'address' | 'port'>) => `${PROTO_FLAG[vs.proto]} ${vs.address}:${vs.port}`;

/** The scheduler flags (ipvsadm -b), i.e. every flag but "persistent". */
export const schedFlags = (vs: VirtualServer) => vs.flags.filter((f) => f !== 'persistent');

/** One `-A`/`-E` line: the virtual server's own settings. */
export function serviceLine(op: '-A' | '-E', vs: VirtualServer): string {
  let line = `${op} ${vsTarget(vs)} -s ${vs.scheduler}`;
  if (vs.flags.includes('persistent')) line += ` -p ${vs.persistentTimeout ?? 300}`;
  const sf = schedFlags(vs);
  if (sf.length) line += ` -b ${sf.join(',')}`;
  return line;
}

/** One `-a`/`-e` line: kube-proxy always uses masquerading (-m), the kernel default it never overrides. */
export function realServerLine(op: '-a' | '-e', vs: VirtualServer, rs: RealServer): string {
  return `${op} ${vsTarget(vs)} -r ${rs.address}:${rs.port} -m -w ${rs.weight}`;
}

/** The whole table as `ipvsadm -Sn` prints it and `ipvsadm-restore` reads it. */
export function ipvsadmRestoreText(vs: VirtualServer[]): string {
  const lines: string[] = [];
  for (const v of sortVirtualServers(vs)) {
    lines.push(serviceLine('-A', v));
    for (const rs of sortRealServers(v.realServers)) lines.push(realServerLine('-a', v, rs));
  }
  return lines.map((l) => l + '\n').join('');
}

/** The `create` line kube-proxy's ipset runner would run (CreateSet with upstream defaults). */
export function ipsetCreateLine(set: Pick<IpSet, 'name' | 'type'>): string {
  if (set.type === 'bitmap:port') return `create ${set.name} bitmap:port range ${IPSET_PORT_RANGE}`;
  return `create ${set.name} ${set.type} family inet hashsize ${IPSET_HASH_SIZE} maxelem ${IPSET_MAX_ELEM}`;
}

/**
 * The sets as `ipset restore` reads them. Upstream creates its sets without
 * ipset's `comment` extension: the comment lives in the iptables rules that
 * match the set. ipset 7.17 (Debian 12) accepts these create lines as written.
 */
export function ipsetRestoreText(sets: IpSet[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    lines.push(ipsetCreateLine(s));
    for (const e of s.entries) lines.push(`add ${s.name} ${e}`);
  }
  return lines.map((l) => l + '\n').join('');
}

const pad = (s: string, n: number) => s.padEnd(n);

/** What `ipvsadm -Ln` prints for these virtual servers (counters from the data, else 0). */
export function formatIpvsadmList(vs: VirtualServer[], opts: { size?: number } = {}): string {
  const out = [
    `IP Virtual Server version 1.2.1 (size=${opts.size ?? 4096})`,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const v of sortVirtualServers(vs)) {
    let line = `${v.proto}  ${v.address}:${v.port}`.slice(0, 33) + ` ${v.scheduler}`;
    const sf = schedFlags(v);
    if (sf.length) line += ` (${sf.join(',')})`;
    if (v.flags.includes('persistent')) line += ` persistent ${v.persistentTimeout ?? 300}`;
    out.push(line);
    for (const rs of sortRealServers(v.realServers)) {
      // printf("  -> %-28s %-7s %-6d %-10u %-10u\n"): the trailing padding is part of the real output.
      out.push(`  -> ${pad(`${rs.address}:${rs.port}`.slice(0, 28), 28)} ${pad('Masq', 7)} ${pad(String(rs.weight), 6)} ${pad(String(rs.activeConn ?? 0), 10)} ${pad(String(rs.inactConn ?? 0), 10)}`);
    }
  }
  return out.join('\n') + '\n';
}
