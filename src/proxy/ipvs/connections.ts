// IPVS's own connection table (`ipvsadm -Lnc`): IPVS does not DNAT through
// iptables, so this table, not conntrack's reply tuple, says which real
// server a virtual service connection was scheduled to. Pure: text in.
export interface IpvsConnection {
  proto: string;
  expire: string;
  state: string;
  client: string;
  virtual: string;
  real: string;
}

/**
 * `ipvsadm -Lnc`:
 *   IPVS connection entries
 *   pro expire state       source             virtual            destination
 *   TCP 14:58  ESTABLISHED 10.244.2.2:45106   10.96.0.20:3306    10.244.1.3:3306
 */
export function parseIpvsConnections(text: string): IpvsConnection[] {
  const out: IpvsConnection[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w.length !== 6 || !/^(TCP|UDP|SCTP)$/i.test(w[0]) || !w[3].includes(':')) continue;
    out.push({ proto: w[0].toUpperCase(), expire: w[1], state: w[2], client: w[3], virtual: w[4], real: w[5] });
  }
  return out;
}
