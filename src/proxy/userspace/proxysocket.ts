// The userspace proxier's data path (pkg/proxy/userspace/proxysocket.go): a TCP
// listener that accepts, dials an endpoint chosen by the load balancer (trying
// the next one on failure, like tryConnect) and copies bytes both ways in user
// space; and a UDP socket that keeps one backend socket per client address
// until it has been idle for the UDP timeout. Every byte crosses this process —
// the cost the seed articles describe — so the copy path is kept lean: Nagle
// off, large buffers, and replies from the endpoint read straight into 256 KiB
// buffers and written on as they are (Node otherwise reads 64 KiB at a time and
// allocates a buffer per read: four times the reads, callbacks and writes).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { LoadBalancerRR } from './roundrobin.ts';

/** Upstream endpointDialTimeout: one attempt per entry, each with a longer timeout. */
export const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000];
/** Upstream udpIdleTimeout default. */
export const UDP_IDLE_TIMEOUT_MS = 250;
/** Stream buffer size for both sides of a TCP copy (Node's default is 16 KiB). */
export const COPY_HIGH_WATER_MARK = 1 << 20;
/** One read from an endpoint socket: up to this much per syscall and per callback. */
export const READ_BUFFER_SIZE = 1 << 18;

/**
 * Read buffers handed back once the write that carried their bytes has finished
 * (Node keeps one per endpoint socket for its next read). Bounded, so a burst of
 * connections leaves no more than this many behind.
 */
const spareBuffers: Buffer[] = [];
const MAX_SPARE_BUFFERS = 32;

function takeReadBuffer(): Buffer {
  return spareBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
}

function giveBackReadBuffer(buf: Buffer): void {
  if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(buf);
}

/**
 * net.connect's `onread`: each read lands in a buffer of our own and is written to
 * `client` without a copy; the buffer is reused once that write is done. A full
 * client (write returns false) pauses the endpoint socket until it drains, as pipe() would.
 */
function forwardReadsTo(client: net.Socket, self: () => net.Socket | undefined) {
  return {
    buffer: takeReadBuffer,
    callback(nread: number, buf: Buffer): boolean {
      if (client.destroyed) return false;
      const more = client.write(buf.subarray(0, nread), () => giveBackReadBuffer(buf));
      if (!more) client.once('drain', () => self()?.resume());
      return more;
    },
  };
}

export interface ProxyContext {
  key: string;
  lb: LoadBalancerRR;
  dialTimeoutsMs?: number[];
  log?: (line: string) => void;
}

export interface ProxySocket {
  readonly protocol: 'TCP' | 'UDP';
  /** The port actually listened on (the kernel's choice when 0 was asked for). */
  readonly port: number;
  /** Open client connections (TCP) or client sessions (UDP). */
  active(): number;
  /** Stops listening; `force` also cuts established connections (shutdown), else they live on as upstream's do. */
  close(force?: boolean): Promise<void>;
}

/** "::ffff:10.0.0.1" (a v4 client on a dual-stack socket) -> "10.0.0.1", for the affinity key. */
export function clientIP(address: string | undefined): string {
  const a = address ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function splitEndpoint(ep: string): { host: string; port: number } {
  const i = ep.lastIndexOf(':');
  return { host: ep.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(ep.slice(i + 1)) };
}

function dial(ep: string, timeoutMs: number, replyTo?: net.Socket): Promise<net.Socket> {
  const { host, port } = splitEndpoint(ep);
  return new Promise((resolve, reject) => {
    // net.Socket hands its options to stream.Duplex, so highWaterMark applies (not in @types/node's connect options).
    const opts = { host, port, noDelay: true, allowHalfOpen: true, highWaterMark: COPY_HIGH_WATER_MARK } as net.TcpNetConnectOpts;
    if (replyTo) opts.onread = forwardReadsTo(replyTo, () => s);
    const s: net.Socket = net.connect(opts);
    const timer = setTimeout(() => s.destroy(new Error(`dial ${ep}: timeout after ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * tryConnect: ask the balancer for an endpoint and dial it; on failure ask again
 * with affinity reset (a dead sticky endpoint must not pin the client). With
 * `replyTo`, what the endpoint sends is written to that socket as it is read.
 */
export async function tryConnect(ctx: ProxyContext, client: string, replyTo?: net.Socket): Promise<{ socket: net.Socket; endpoint: string }> {
  let reset = false;
  for (const timeout of ctx.dialTimeoutsMs ?? DIAL_TIMEOUTS_MS) {
    const endpoint = ctx.lb.nextEndpoint(ctx.key, client, reset);
    try {
      return { socket: await dial(endpoint, timeout, replyTo), endpoint };
    } catch (err) {
      ctx.log?.(`${ctx.key}: dial ${endpoint} failed: ${(err as Error).message}`);
      reset = true;
    }
  }
  throw new Error(`${ctx.key}: failed to connect to an endpoint`);
}

/**
 * Joins a client and an endpoint socket: client bytes are piped on, endpoint bytes
 * already flow through the endpoint's onread (dial). A FIN is passed on as a FIN
 * (half-close), an error tears both down.
 */
function splice(a: net.Socket, b: net.Socket, onDone: () => void): void {
  a.pipe(b);
  // onread delivers data but no 'data' events, so pipe() cannot carry b's end: do it here.
  b.once('end', () => a.end());
  let closed = 0;
  const done = () => {
    if (++closed === 2) onDone();
  };
  for (const [x, y] of [[a, b], [b, a]] as const) {
    x.on('error', () => y.destroy());
    x.on('close', (hadError) => {
      if (hadError) y.destroy();
      done();
    });
  }
}

export function openTcpProxy(host: string, port: number, ctx: ProxyContext): Promise<ProxySocket> {
  const conns = new Set<net.Socket>();
  let pairs = 0;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: COPY_HIGH_WATER_MARK, pauseOnConnect: true });
  server.on('connection', (inConn) => {
    conns.add(inConn);
    inConn.on('error', () => inConn.destroy());
    inConn.on('close', () => conns.delete(inConn));
    tryConnect(ctx, clientIP(inConn.remoteAddress), inConn).then(
      ({ socket: out }) => {
        if (inConn.destroyed) return out.destroy();
        conns.add(out);
        pairs++;
        splice(inConn, out, () => {
          conns.delete(out);
          pairs--;
        });
        inConn.resume();
      },
      (err) => {
        // Like upstream: no endpoint (or none reachable) closes the client connection.
        ctx.log?.(`${ctx.key}: ${(err as Error).message}; closing client ${inConn.remoteAddress}:${inConn.remotePort}`);
        inConn.destroy();
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', (err) => ctx.log?.(`${ctx.key}: accept failed: ${err.message}`));
      resolve({
        protocol: 'TCP',
        port: (server.address() as net.AddressInfo).port,
        active: () => pairs,
        // Upstream: Close() stops accepting and leaves established connections alone.
        close: (force = false) => {
          const closed = new Promise<void>((res) => server.close(() => res()));
          if (force) for (const c of conns) c.destroy();
          return closed;
        },
      });
    });
  });
}

interface UdpClient {
  backend: dgram.Socket;
  timer: NodeJS.Timeout;
  pending: Buffer[] | undefined;
}

export function openUdpProxy(host: string, port: number, ctx: ProxyContext, idleTimeoutMs = UDP_IDLE_TIMEOUT_MS): Promise<ProxySocket> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  const clients = new Map<string, UdpClient>();
  const drop = (id: string) => {
    const c = clients.get(id);
    if (!c) return;
    clients.delete(id);
    clearTimeout(c.timer);
    c.backend.close();
  };
  // Upstream sets a read/write deadline of udpIdleTimeout after every packet, either way.
  const touch = (id: string, c: UdpClient) => {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => drop(id), idleTimeoutMs);
  };

  sock.on('message', (msg, rinfo) => {
    const id = `${rinfo.address}:${rinfo.port}`;
    let c = clients.get(id);
    if (!c) {
      let endpoint: string;
      try {
        // A UDP "dial" cannot fail before the first packet, so one pick is all tryConnect does here.
        endpoint = ctx.lb.nextEndpoint(ctx.key, rinfo.address);
      } catch (err) {
        ctx.log?.(`${ctx.key}: ${(err as Error).message}; dropping datagram from ${id}`);
        return;
      }
      const { host: eh, port: ep } = splitEndpoint(endpoint);
      const backend = dgram.createSocket('udp4');
      const client: UdpClient = { backend, timer: setTimeout(() => drop(id), idleTimeoutMs), pending: [] };
      c = client;
      clients.set(id, client);
      backend.on('message', (reply) => {
        touch(id, client);
        sock.send(reply, rinfo.port, rinfo.address);
      });
      // ICMP port unreachable on a connected socket ends the session, as a failed Read does upstream.
      backend.on('error', () => drop(id));
      backend.connect(ep, eh, () => {
        for (const m of client.pending ?? []) backend.send(m);
        client.pending = undefined;
      });
    }
    touch(id, c);
    if (c.pending) c.pending.push(msg);
    else c.backend.send(msg);
  });

  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', reject);
      sock.on('error', (err) => ctx.log?.(`${ctx.key}: udp socket: ${err.message}`));
      resolve({
        protocol: 'UDP',
        port: sock.address().port,
        active: () => clients.size,
        // Upstream: closing a UDP proxy socket breaks its sessions.
        close: async () => {
          for (const id of [...clients.keys()]) drop(id);
          await new Promise<void>((res) => sock.close(() => res()));
        },
      });
    });
  });
}
