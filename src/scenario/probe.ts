// `svclab probe connect HOST:PORT`: run inside a pod or node by assertions to
// tell "refused" from "timed out" from "connected" precisely (curl and the
// mariadb client blur these). Prints one JSON line; never throws.
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';

export interface ProbeResult {
  result: 'connected' | 'refused' | 'timeout' | 'unresolved' | 'error';
  host: string;
  address?: string;
  port: number;
  ms: number;
  /** The client's source port, when it connected (what conntrack and trace rules match on). */
  localPort?: number;
  error?: string;
}

export async function probeConnect(host: string, port: number, timeoutMs: number, localPort?: number): Promise<ProbeResult> {
  const start = Date.now();
  let address = host;
  try {
    address = (await lookup(host, { family: 4 })).address;
  } catch (err) {
    return { result: 'unresolved', host, port, ms: Date.now() - start, error: (err as Error).message };
  }
  return new Promise((resolve) => {
    // A chosen source port lets `svclab trace` match this one connection in conntrack and nft trace rules.
    const sock = connect({ host: address, port, ...(localPort ? { localPort } : {}) });
    const done = (result: ProbeResult['result'], error?: string) => {
      sock.destroy();
      resolve({ result, host, address, port, ms: Date.now() - start, ...(error ? { error } : {}) });
    };
    sock.setTimeout(timeoutMs, () => done('timeout'));
    sock.on('connect', () => {
      const local = sock.localPort;
      sock.destroy();
      resolve({ result: 'connected', host, address, port, ms: Date.now() - start, ...(local ? { localPort: local } : {}) });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'error', err.code ?? err.message));
  });
}

export async function runProbeCommand(args: string[]): Promise<number> {
  const [verb, target, ...rest] = args;
  if (verb !== 'connect' || !target) {
    console.error('usage: svclab probe connect HOST:PORT [--timeout MS] [--local-port PORT]');
    return 2;
  }
  const t = rest.indexOf('--timeout');
  const timeout = t >= 0 ? Number(rest[t + 1]) : 3000;
  const l = rest.indexOf('--local-port');
  const localPort = l >= 0 ? Number(rest[l + 1]) : undefined;
  const i = target.lastIndexOf(':');
  const r = await probeConnect(target.slice(0, i), Number(target.slice(i + 1)), timeout, localPort);
  console.log(JSON.stringify(r));
  return 0;
}
