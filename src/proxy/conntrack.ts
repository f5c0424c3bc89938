// conntrack's view of a connection: the original tuple (as the client sent
// it) and the reply tuple (as the answer comes back). Their difference is the
// NAT: the reply's source is where DNAT sent the connection (the endpoint),
// the reply's destination is the client as the endpoint saw it (after SNAT /
// MASQUERADE). IPVS keeps its own table: src/proxy/ipvs/connections.ts.

/** A connection's first packet, as the rules see it (and as a trace follows it). */
export interface Packet {
  proto: string;
  src: string;
  sport?: number;
  dst: string;
  dport: number;
}

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackEntry {
  /** "NEW", "UPDATE", "DESTROY" for `conntrack -E` lines. */
  event?: string;
  proto: string;
  state?: string;
  original: Tuple;
  reply: Tuple;
  flags: string[];
}

const ENTRY = /^\s*(?:\[(\w+)\]\s+)?(tcp|udp|sctp|icmp|\w+)\s+\d+\s+(?:\d+\s+)?(?:([A-Z_]+)\s+)?(.*)$/;

/** One line of `conntrack -L` or `conntrack -E`; undefined for summaries and anything else. */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const m = line.match(ENTRY);
  if (!m) return undefined;
  const tuples: Partial<Tuple>[] = [];
  const flags: string[] = [];
  for (const word of m[4].split(/\s+/)) {
    const kv = word.match(/^(src|dst|sport|dport)=(\S+)$/);
    if (kv) {
      // A second src= starts the reply tuple.
      if (kv[1] === 'src') tuples.push({});
      const t = tuples[tuples.length - 1];
      if (!t) return undefined;
      if (kv[1] === 'src' || kv[1] === 'dst') t[kv[1]] = kv[2];
      else t[kv[1] as 'sport' | 'dport'] = Number(kv[2]);
    } else if (/^\[\w+\]$/.test(word)) flags.push(word.slice(1, -1));
  }
  if (tuples.length !== 2 || !tuples.every((t) => t.src && t.dst)) return undefined;
  const full = (t: Partial<Tuple>): Tuple => ({ src: t.src!, dst: t.dst!, sport: t.sport ?? 0, dport: t.dport ?? 0 });
  const e: ConntrackEntry = { proto: m[2], original: full(tuples[0]), reply: full(tuples[1]), flags };
  if (m[1]) e.event = m[1];
  if (m[3]) e.state = m[3];
  return e;
}

export function parseConntrack(text: string): ConntrackEntry[] {
  return text.split('\n').map(parseConntrackLine).filter((e): e is ConntrackEntry => Boolean(e));
}

/** Entries whose original tuple matches every given field. */
export function findOriginal(entries: ConntrackEntry[], want: Partial<Tuple> & { proto?: string }): ConntrackEntry[] {
  return entries.filter(
    (e) =>
      (want.proto === undefined || e.proto === want.proto) &&
      (want.src === undefined || e.original.src === want.src) &&
      (want.dst === undefined || e.original.dst === want.dst) &&
      (want.sport === undefined || e.original.sport === want.sport) &&
      (want.dport === undefined || e.original.dport === want.dport),
  );
}

/** One entry per connection (the last event seen for it wins), in order of first appearance. */
export function latestPerConnection(entries: ConntrackEntry[]): ConntrackEntry[] {
  const byKey = new Map<string, ConntrackEntry>();
  for (const e of entries) {
    const k = `${e.proto} ${e.original.src}:${e.original.sport} ${e.original.dst}:${e.original.dport}`;
    byKey.set(k, e);
  }
  return [...byKey.values()];
}

export interface NatSummary {
  /** The destination the client dialled → where it went. */
  dnat?: { from: string; to: string };
  /** The client's address → what the endpoint saw. */
  snat?: { from: string; to: string };
}

/** The address translations an entry records. */
export function natOf(e: ConntrackEntry): NatSummary {
  const o = e.original;
  const r = e.reply;
  const out: NatSummary = {};
  if (r.src !== o.dst || r.sport !== o.dport) out.dnat = { from: `${o.dst}:${o.dport}`, to: `${r.src}:${r.sport}` };
  if (r.dst !== o.src || r.dport !== o.sport) out.snat = { from: `${o.src}:${o.sport}`, to: `${r.dst}:${r.dport}` };
  return out;
}
