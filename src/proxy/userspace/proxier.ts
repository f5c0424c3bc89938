// The userspace proxy (kube-proxy <= 1.25, pkg/proxy/userspace/proxier.go):
// one listening socket per service port on the node's bind address, fed by the
// portal rules (render.ts) and forwarding to endpoints chosen by LoadBalancerRR.
// update(state) is one sync: open/close listeners as service ports come, go or
// change, hand the balancer the ready endpoints, sweep stale affinity.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { normalizeIP } from '../../util/cidr.ts';
import type { ProxyState, ServicePortInfo } from '../model.ts';
import { LoadBalancerRR, type LoadBalancerOptions } from './roundrobin.ts';
import { openTcpProxy, openUdpProxy, UDP_IDLE_TIMEOUT_MS, type ProxyContext, type ProxySocket } from './proxysocket.ts';

export interface UserspaceProxierOptions extends LoadBalancerOptions {
  /** --bind-address; upstream default 0.0.0.0. (The backend refuses loopback; tests use it directly.) */
  bindAddress?: string;
  /** --udp-timeout, default 250 ms. */
  udpIdleTimeoutMs?: number;
  /** --proxy-port-range; unset = a port the kernel picks. */
  portRange?: { base: number; size: number };
  dialTimeoutsMs?: number[];
  /** The node's own addresses: portal IPs among them get their port claimed. */
  nodeIPs?: string[];
  /** Hold each NodePort (and local portal IP:port) open so nothing else can take it (upstream claimNodePort). */
  claimPorts?: boolean;
  log?: (line: string) => void;
}

interface ServiceEntry {
  svc: ServicePortInfo;
  socket: ProxySocket;
  claims: Claim[];
}

interface Claim {
  id: string;
  close(): void;
}

/** Upstream sameConfig(): what, when changed, restarts the service port's listener. */
function sameConfig(a: ServicePortInfo, b: ServicePortInfo): boolean {
  return a.protocol === b.protocol && a.port === b.port && a.nodePort === b.nodePort && a.clusterIP === b.clusterIP
    && a.externalIPs.join() === b.externalIPs.join() && a.loadBalancerVIPs.join() === b.loadBalancerVIPs.join()
    && a.sessionAffinityClientIP === b.sessionAffinityClientIP;
}

/** Binds (and for TCP listens on) ip:port so the port is ours; connections never reach it (iptables redirects first). */
function claimPort(protocol: 'TCP' | 'UDP', ip: string, port: number): Promise<Claim> {
  const id = `${ip || '0.0.0.0'}:${port}/${protocol}`;
  return new Promise((resolve, reject) => {
    if (protocol === 'TCP') {
      const s = net.createServer((c) => c.destroy());
      s.once('error', reject);
      s.listen({ host: ip || '0.0.0.0', port, exclusive: true }, () => resolve({ id, close: () => s.close() }));
    } else {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind({ address: ip || '0.0.0.0', port, exclusive: true }, () => resolve({ id, close: () => s.close() }));
    }
  });
}

export class UserspaceProxier {
  readonly lb: LoadBalancerRR;
  private readonly services = new Map<string, ServiceEntry>();
  private readonly bind: string;
  private nextPort = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: UserspaceProxierOptions = {}) {
    this.lb = new LoadBalancerRR(opts);
    this.bind = normalizeIP(opts.bindAddress ?? '0.0.0.0') || '0.0.0.0';
  }

  /** Service port key -> listening port, for renderUserspace(). */
  ports(): Map<string, number> {
    return new Map([...this.services].map(([k, e]) => [k, e.socket.port]));
  }

  /** One sync (serialised: concurrent calls run one after the other). */
  update(state: ProxyState): Promise<Map<string, number>> {
    const next = this.queue.then(() => this.sync(state));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Closes every listener and connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    for (const key of [...this.services.keys()]) await this.stop(key, true);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private async sync(state: ProxyState): Promise<Map<string, number>> {
    if (this.closed) return this.ports();
    for (const [key, entry] of [...this.services]) {
      const svc = state.services.get(key);
      if (!svc || !sameConfig(entry.svc, svc)) await this.stop(key, false);
      if (!svc) this.lb.deleteService(key);
    }
    for (const [key, svc] of state.services) {
      if (!this.services.has(key)) await this.start(svc);
      // The userspace proxier read v1.Endpoints, whose addresses are the ready ones.
      const ready = (state.endpoints.get(key) ?? []).filter((e) => e.ready && e.ip && e.port).map((e) => e.endpoint);
      this.lb.setEndpoints(key, [...new Set(ready)]);
    }
    for (const key of this.services.keys()) this.lb.cleanupStaleStickySessions(key);
    return this.ports();
  }

  private allocate(): number {
    const r = this.opts.portRange;
    if (!r) return 0;
    const used = new Set([...this.services.values()].map((e) => e.socket.port));
    for (let i = 0; i < r.size; i++) {
      const p = r.base + ((this.nextPort + i) % r.size);
      if (!used.has(p)) {
        this.nextPort = (p - r.base + 1) % r.size;
        return p;
      }
    }
    throw new Error(`no free proxy port in ${r.base}-${r.base + r.size - 1}`);
  }

  private async start(svc: ServicePortInfo): Promise<void> {
    if (svc.protocol === 'SCTP') {
      this.log(`${svc.key}: SCTP is not supported by the userspace proxier; skipping`);
      return;
    }
    const ctx: ProxyContext = { key: svc.key, lb: this.lb, dialTimeoutsMs: this.opts.dialTimeoutsMs, log: this.opts.log };
    let socket: ProxySocket;
    try {
      const port = this.allocate();
      socket = svc.protocol === 'TCP'
        ? await openTcpProxy(this.bind, port, ctx)
        : await openUdpProxy(this.bind, port, ctx, this.opts.udpIdleTimeoutMs ?? UDP_IDLE_TIMEOUT_MS);
    } catch (err) {
      this.log(`${svc.key}: failed to start proxy: ${(err as Error).message}`);
      return;
    }
    this.lb.newService(svc.key, svc.sessionAffinityClientIP, svc.stickyMaxAgeSeconds);
    const entry: ServiceEntry = { svc, socket, claims: [] };
    this.services.set(svc.key, entry);
    this.log(`proxying ${svc.key} (${svc.clusterIP}:${svc.port}/${svc.protocol}) on ${this.bind}:${socket.port}`);
    if (this.opts.claimPorts !== false) await this.claim(entry);
  }

  private async claim(entry: ServiceEntry): Promise<void> {
    const { svc } = entry;
    const proto = svc.protocol as 'TCP' | 'UDP';
    const local = new Set((this.opts.nodeIPs ?? []).map(normalizeIP));
    const wanted: [string, number][] = [...[svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs].filter((ip) => local.has(ip)).map((ip) => [ip, svc.port] as [string, number])];
    if (svc.nodePort) wanted.push(['', svc.nodePort]);
    for (const [ip, port] of wanted) {
      try {
        entry.claims.push(await claimPort(proto, ip, port));
      } catch (err) {
        // Upstream fails the portal on a conflict; the proxy itself keeps running.
        this.log(`${svc.key}: cannot claim ${ip || '0.0.0.0'}:${port}/${proto}: ${(err as Error).message}`);
      }
    }
  }

  private async stop(key: string, force: boolean): Promise<void> {
    const e = this.services.get(key);
    if (!e) return;
    this.services.delete(key);
    for (const c of e.claims) c.close();
    await e.socket.close(force);
    this.log(`stopped proxying ${key} on port ${e.socket.port}`);
  }
}
