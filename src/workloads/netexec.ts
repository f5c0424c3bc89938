// A stand-in for agnhost netexec (kubernetes test/images/agnhost/netexec):
// an HTTP server and a UDP server that say which pod answered and which
// client address they saw — what Service assertions need to tell backends
// apart and to see whether the source was SNATed. Runs inside a pod as
// `svclab daemon netexec --http-port P --udp-port U`.
import { createServer, type Server } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { hostname as osHostname } from 'node:os';

export interface NetexecOptions {
  httpPort: number;
  /** 0 or negative: no UDP server (agnhost: --udp-port -1). */
  udpPort?: number;
  /** Defaults to the UTS hostname, i.e. the pod name. */
  hostname?: string;
  log?: (line: string) => void;
}

export interface Netexec {
  httpPort: number;
  udpPort: number;
  close(): Promise<void>;
}

/** "::ffff:10.0.0.1" → "10.0.0.1": a dual-stack socket reports IPv4 clients mapped. */
function plainAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

function hostPort(addr: string, port: number | undefined): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The answer to one HTTP request, as agnhost netexec gives it. */
export function netexecHttpAnswer(
  url: URL,
  client: string,
  headers: Record<string, string | string[] | undefined>,
  hostname: string,
): { status: number; body: string } {
  switch (url.pathname) {
    case '/':
    case '/hostname':
      return { status: 200, body: hostname };
    case '/clientip':
      return { status: 200, body: client };
    case '/echo':
      return { status: 200, body: url.searchParams.get('msg') ?? '' };
    case '/header': {
      const v = headers[(url.searchParams.get('key') ?? '').toLowerCase()];
      return { status: 200, body: Array.isArray(v) ? v.join(',') : (v ?? '') };
    }
    case '/healthz':
      return { status: 200, body: 'ok' };
    case '/shell':
      return { status: 403, body: 'svclab netexec does not run shell commands\n' };
    default:
      return { status: 404, body: `404 page not found\n` };
  }
}

/** The answer to one UDP datagram: "hostname", "echo <msg>", "clientip"; nothing otherwise. */
export function netexecUdpAnswer(msg: string, client: string, hostname: string): string | undefined {
  const text = msg.trim();
  if (text === 'hostname') return hostname;
  if (text === 'clientip') return client;
  if (text.startsWith('echo ')) return text.slice(5);
  return undefined;
}

async function listenHttp(server: Server, port: number): Promise<void> {
  const attempt = (host: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, ipv6Only: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  // Dual-stack like Go's ":port"; a pod netns without IPv6 falls back to IPv4.
  try {
    await attempt('::');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
    await attempt('0.0.0.0');
  }
}

async function bindUdp(port: number, onMessage: (sock: Socket, msg: Buffer, addr: string, rport: number) => void): Promise<Socket> {
  const attempt = (type: 'udp6' | 'udp4') =>
    new Promise<Socket>((resolve, reject) => {
      const sock = createSocket({ type, ipv6Only: false });
      sock.once('error', reject);
      sock.on('message', (msg, rinfo) => onMessage(sock, msg, rinfo.address, rinfo.port));
      sock.bind(port, type === 'udp6' ? '::' : '0.0.0.0', () => {
        sock.off('error', reject);
        resolve(sock);
      });
    });
  try {
    return await attempt('udp6');
  } catch {
    return attempt('udp4');
  }
}

export async function startNetexec(opts: NetexecOptions): Promise<Netexec> {
  const name = opts.hostname ?? osHostname();
  const log = opts.log ?? ((line: string) => console.log(line));
  const server = createServer((req, res) => {
    const client = hostPort(plainAddress(req.socket.remoteAddress), req.socket.remotePort);
    const url = new URL(req.url ?? '/', 'http://netexec');
    const { status, body } = netexecHttpAnswer(url, client, req.headers, name);
    log(`${new Date().toISOString()} ${client} ${req.method} ${req.url} ${status}`);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  });
  await listenHttp(server, opts.httpPort);
  const httpPort = (server.address() as { port: number }).port;

  let udp: Socket | undefined;
  if (opts.udpPort !== undefined && opts.udpPort >= 0) {
    udp = await bindUdp(opts.udpPort, (sock, msg, addr, rport) => {
      const client = hostPort(plainAddress(addr), rport);
      const answer = netexecUdpAnswer(msg.toString('utf8'), client, name);
      if (answer !== undefined) sock.send(answer, rport, addr);
    });
  }
  const udpPort = udp ? udp.address().port : -1;
  log(`netexec ${name}: http on ${httpPort}, udp on ${udpPort}`);
  return {
    httpPort,
    udpPort,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (udp) await new Promise<void>((resolve) => udp!.close(() => resolve()));
    },
  };
}

/**
 * `svclab daemon netexec --http-port P [--udp-port U]` (agnhost's flag names,
 * `=value` or a separate value): serves until SIGTERM/SIGINT, then closes.
 */
export async function runNetexec(flags: string[]): Promise<void> {
  const opts: NetexecOptions = { httpPort: NETEXEC_DEFAULTS.http, udpPort: NETEXEC_DEFAULTS.udp };
  for (let i = 0; i < flags.length; i++) {
    const m = /^--?(http-port|udp-port)(?:=(.*))?$/.exec(flags[i]);
    if (!m) throw new Error(`netexec: unknown flag ${flags[i]} (--http-port, --udp-port)`);
    const value = Number(m[2] ?? flags[++i]);
    if (!Number.isInteger(value) || value < -1 || value > 65535) throw new Error(`netexec: --${m[1]} needs a port number`);
    if (m[1] === 'http-port') opts.httpPort = value;
    else opts.udpPort = value;
  }
  const server = await startNetexec(opts);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
}

/** agnhost netexec's default ports. */
export const NETEXEC_DEFAULTS = { http: 8080, udp: 8081 };
