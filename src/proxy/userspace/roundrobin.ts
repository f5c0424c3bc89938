// Upstream's LoadBalancerRR (pkg/proxy/userspace/roundrobin.go): per service
// port a shuffled endpoint list and a rotating index; with ClientIP affinity a
// map client IP -> endpoint that holds until the affinity timeout, refreshed
// on every use and swept on every sync.

export class NoEndpointsError extends Error {
  override name = 'NoEndpointsError';
}

interface AffinityState {
  endpoint: string;
  lastUsed: number;
}

interface BalancerState {
  endpoints: string[];
  index: number;
  affinity: boolean;
  ttlSeconds: number;
  affinityMap: Map<string, AffinityState>;
}

export interface LoadBalancerOptions {
  /** Milliseconds clock (tests move it). */
  now?: () => number;
  /** Upstream shuffles each new endpoint list (util.ShuffleStrings); tests pass the identity. */
  shuffle?: (endpoints: string[]) => string[];
}

function fisherYates(a: string[]): string[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const DEFAULT_AFFINITY_SECONDS = 10800;

export class LoadBalancerRR {
  private readonly services = new Map<string, BalancerState>();
  private readonly now: () => number;
  private readonly shuffle: (e: string[]) => string[];

  constructor(opts: LoadBalancerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.shuffle = opts.shuffle ?? fisherYates;
  }

  private state(key: string): BalancerState {
    let s = this.services.get(key);
    if (!s) {
      s = { endpoints: [], index: 0, affinity: false, ttlSeconds: DEFAULT_AFFINITY_SECONDS, affinityMap: new Map() };
      this.services.set(key, s);
    }
    return s;
  }

  /** NewService: creates the entry if needed and sets the affinity policy (0 s means the 3 h default). */
  newService(key: string, clientIPAffinity: boolean, ttlSeconds: number): void {
    const s = this.state(key);
    s.affinity = clientIPAffinity;
    s.ttlSeconds = ttlSeconds || DEFAULT_AFFINITY_SECONDS;
  }

  deleteService(key: string): void {
    this.services.delete(key);
  }

  hasEndpoints(key: string): boolean {
    return (this.services.get(key)?.endpoints.length ?? 0) > 0;
  }

  endpoints(key: string): string[] {
    return [...(this.services.get(key)?.endpoints ?? [])];
  }

  /**
   * OnEndpointsUpdate: a changed endpoint set (compared as a set) drops affinity
   * to endpoints that left, is reshuffled and restarts at index 0; an unchanged
   * set keeps its rotation.
   */
  setEndpoints(key: string, endpoints: string[]): void {
    const s = this.state(key);
    const cur = [...s.endpoints].sort().join(' ');
    const next = [...endpoints].sort().join(' ');
    if (cur === next && s.endpoints.length === endpoints.length) return;
    const keep = new Set(endpoints);
    for (const [ip, a] of s.affinityMap) if (!keep.has(a.endpoint)) s.affinityMap.delete(ip);
    s.endpoints = this.shuffle(endpoints);
    s.index = 0;
  }

  /** NextEndpoint: the sticky endpoint while fresh (unless reset after a failed dial), else the next in turn. */
  nextEndpoint(key: string, clientIP: string, affinityReset = false): string {
    const s = this.services.get(key);
    if (!s) throw new NoEndpointsError(`missing service entry for ${key}`);
    if (s.endpoints.length === 0) throw new NoEndpointsError(`missing endpoints for ${key}`);
    if (s.affinity && !affinityReset) {
      const a = s.affinityMap.get(clientIP);
      // Upstream compares whole seconds: int(time.Since(lastUsed).Seconds()) < ttl.
      if (a && Math.floor((this.now() - a.lastUsed) / 1000) < s.ttlSeconds) {
        a.lastUsed = this.now();
        return a.endpoint;
      }
    }
    const endpoint = s.endpoints[s.index];
    s.index = (s.index + 1) % s.endpoints.length;
    if (s.affinity) s.affinityMap.set(clientIP, { endpoint, lastUsed: this.now() });
    return endpoint;
  }

  /** CleanupStaleStickySessions for one service port, called on every sync. */
  cleanupStaleStickySessions(key: string): void {
    const s = this.services.get(key);
    if (!s) return;
    for (const [ip, a] of s.affinityMap) {
      if (Math.floor((this.now() - a.lastUsed) / 1000) >= s.ttlSeconds) s.affinityMap.delete(ip);
    }
  }

  affinityEntries(key: string): number {
    return this.services.get(key)?.affinityMap.size ?? 0;
  }
}
