// Parsers for what the kernel tools print back: `ipvsadm -Sn` (the restore
// format), `ipvsadm -Ln` (adds connection counters), `ipset save`, and the
// addresses on kube-ipvs0 from `ip -o -4 addr show`. Their output is the
// "current" side of a sync's diff.
import type { Protocol } from '../model.ts';
import { canonicalEntry } from './ipsets.ts';
import type { IpSet, IpSetType, RealServer, VirtualServer } from './types.ts';

const FLAG_PROTO: Record<string, Protocol> = { '-t': 'TCP', '--tcp-service': 'TCP', '-u': 'UDP', '--udp-service': 'UDP', '--sctp-service': 'SCTP' };

/** "10.0.0.1:80" or "[2001:db8::1]:80". */
export function splitHostPort(s: string): { address: string; port: number } {
  const m = s.match(/^\[([^\]]+)\]:(\d+)$/) ?? s.match(/^([^:]+):(\d+)$/);
  if (!m) throw new Error(`cannot parse "${s}" as address:port`);
  return { address: m[1], port: Number(m[2]) };
}

const vsKey = (proto: string, address: string, port: number) => `${proto} ${address}:${port}`;

/** Parses `ipvsadm -Sn` / ipvsadm-restore input (only -A and -a lines are expected). */
export function parseIpvsadmSave(text: string): VirtualServer[] {
  const byKey = new Map<string, VirtualServer>();
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const tok = line.split(/\s+/);
    const op = tok[0];
    const protoFlag = tok[1];
    const proto = FLAG_PROTO[protoFlag];
    if (!proto || (op !== '-A' && op !== '-a')) throw new Error(`ipvsadm -S line ${n + 1}: cannot parse "${line}"`);
    const { address, port } = splitHostPort(tok[2]);
    const key = vsKey(proto, address, port);
    const opt = (names: string[]) => {
      const i = tok.findIndex((t) => names.includes(t));
      return i >= 0 ? tok[i + 1] : undefined;
    };
    if (op === '-A') {
      const vs: VirtualServer = { proto, address, port, scheduler: opt(['-s', '--scheduler']) ?? 'wlc', flags: [], realServers: [] };
      const p = opt(['-p', '--persistent']);
      if (p !== undefined) {
        vs.flags.push('persistent');
        vs.persistentTimeout = Number(p);
      }
      const b = opt(['-b', '--sched-flags']);
      if (b) vs.flags.push(...b.split(','));
      byKey.set(key, vs);
    } else {
      const vs = byKey.get(key);
      if (!vs) throw new Error(`ipvsadm -S line ${n + 1}: real server for unknown virtual server ${key}`);
      const r = splitHostPort(opt(['-r', '--real-server']) ?? '');
      vs.realServers.push({ address: r.address, port: r.port, weight: Number(opt(['-w', '--weight']) ?? 1) });
    }
  }
  return [...byKey.values()];
}

/** Parses `ipvsadm -Ln`: the same table plus ActiveConn/InActConn per real server. */
export function parseIpvsadmList(text: string): VirtualServer[] {
  const out: VirtualServer[] = [];
  let cur: VirtualServer | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('IP Virtual Server') || line.startsWith('Prot ') || line.startsWith('-> RemoteAddress')) continue;
    if (line.startsWith('->')) {
      const tok = line.slice(2).trim().split(/\s+/);
      if (!cur || tok.length < 5) throw new Error(`ipvsadm -L: cannot parse "${line}"`);
      const { address, port } = splitHostPort(tok[0]);
      const rs: RealServer = { address, port, weight: Number(tok[2]), activeConn: Number(tok[3]), inactConn: Number(tok[4]) };
      cur.realServers.push(rs);
      continue;
    }
    const m = line.match(/^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$/);
    if (!m) throw new Error(`ipvsadm -L: cannot parse "${line}"`);
    const { address, port } = splitHostPort(m[2]);
    cur = { proto: m[1] as Protocol, address, port, scheduler: m[3], flags: [], realServers: [] };
    const rest = m[4];
    const sf = rest.match(/\(([^)]*)\)/);
    if (sf) cur.flags.push(...sf[1].split(',').map((f) => f.trim()).filter(Boolean));
    const p = rest.match(/persistent (\d+)/);
    if (p) {
      cur.flags.unshift('persistent');
      cur.persistentTimeout = Number(p[1]);
    }
    out.push(cur);
  }
  return out;
}

/** Parses `ipset save` (or `ipset list -o save`): sets with their type and canonical entries. */
export function parseIpsetSave(text: string): IpSet[] {
  const sets = new Map<string, IpSet>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const tok = line.split(/\s+/);
    if (tok[0] === 'create') {
      sets.set(tok[1], { name: tok[1], type: tok[2] as IpSetType, entries: [] });
    } else if (tok[0] === 'add') {
      const set = sets.get(tok[1]);
      if (!set) throw new Error(`ipset save: entry for unknown set ${tok[1]}`);
      set.entries.push(canonicalEntry(set.type, tok[2]));
    }
  }
  return [...sets.values()];
}

/** IPv4 addresses (without prefix) from `ip -o -4 addr show dev kube-ipvs0`. */
export function parseDeviceAddresses(text: string): string[] {
  return [...text.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}
