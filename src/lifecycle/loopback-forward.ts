// The host's loopback endpoint of a lab's API, as kind publishes its control
// plane on 127.0.0.1:<port>: a small daemon in the host's network namespace
// listens on 127.0.0.1 (a free port) and pipes each connection's bytes to the
// apiserver's TLS-only unix socket in the lab's state dir (a path socket
// crosses network namespaces). TLS is end to end, so the client's certificate
// reaches the apiserver. A connection that does not open with a TLS handshake
// record is closed unanswered: only TLS passes, so nothing on this port can
// reach the apiserver without its authentication.
// Started by `svclab up` as `svclab daemon api-forward`; stopped by `down`.
import { createConnection, createServer, type Socket } from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError } from '../util/errors.ts';

/** The TLS record type of a handshake (RFC 8446 §5.1): every ClientHello's first byte. */
const TLS_HANDSHAKE = 0x16;

export interface ForwarderRecord {
  pid: number;
  port: number;
  /** The unix socket it pipes to. */
  socket: string;
}

export interface ForwarderOptions {
  /** The apiserver's TLS-only unix socket. */
  socket: string;
  /** Where to record pid and port once listening. */
  record: string;
  /** 0 picks a free port. */
  port?: number;
}

function pipeToSocket(client: Socket, socketPath: string): void {
  client.once('data', (first: Buffer) => {
    if (first[0] !== TLS_HANDSHAKE) {
      client.destroy();
      return;
    }
    const upstream = createConnection(socketPath);
    upstream.write(first);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).on('close', end);
    client.on('close', end);
  });
  client.on('error', () => client.destroy());
}

export interface ListeningForwarder {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port`, 0 = a free one) and pipes TLS connections to `socket`. */
export async function listenLoopback(socket: string, port = 0): Promise<ListeningForwarder> {
  const server = createServer((c) => pipeToSocket(c, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: the host's namespace gains this listening socket and nothing else.
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The daemon's body: listen, record pid and port (atomically), remove the record on SIGTERM/SIGINT. */
export async function runLoopbackForwarder(opts: ForwarderOptions): Promise<ForwarderRecord> {
  const fwd = await listenLoopback(opts.socket, opts.port);
  const rec: ForwarderRecord = { pid: process.pid, port: fwd.port, socket: opts.socket };
  const tmp = `${opts.record}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec) + '\n');
  renameSync(tmp, opts.record);
  const stop = () => {
    rmSync(opts.record, { force: true });
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  console.log(`${new Date().toISOString()} api-forward: 127.0.0.1:${rec.port} -> unix:${opts.socket} (TLS only)`);
  return rec;
}

export function readForwarderRecord(file: string): ForwarderRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ForwarderRecord;
  } catch {
    return undefined;
  }
}

/** Is `rec.pid` still this forwarder (not a recycled pid)? Its command line names the socket. */
export function forwarderAlive(rec: ForwarderRecord): boolean {
  try {
    return readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith(rec.socket));
  } catch {
    return false;
  }
}

/** argv of the daemon, run from the svclab bundle. */
export function forwarderArgv(nodeBin: string, bundle: string, socket: string, record: string): string[] {
  return [nodeBin, bundle, 'daemon', 'api-forward', `--socket=${socket}`, `--record=${record}`];
}

/**
 * Starts the forwarder on this host, detached (it outlives `svclab up`), and
 * waits for its record; returns it.
 */
export async function startLoopbackForwarder(argv: string[], record: string, logFile: string, timeoutMs = 10_000): Promise<ForwarderRecord> {
  rmSync(record, { force: true });
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readForwarderRecord(record);
    if (rec && rec.pid === child.pid) return rec;
    const code = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (code !== undefined || Date.now() > deadline) {
      if (code === undefined && child.pid) process.kill(child.pid, 'SIGTERM');
      const log = (() => { try { return readFileSync(logFile, 'utf8').trim().split('\n').slice(-4).join('\n    '); } catch { return ''; } })();
      throw new EnvironmentError(`the API's loopback forwarder did not start${code !== undefined ? ` (exit ${code})` : ''}${log ? `:\n    ${log}` : ''}`);
    }
  }
}

/** Stops the forwarder its record names (if it is still that process); true when one was stopped. */
export async function stopLoopbackForwarder(record: string): Promise<boolean> {
  const rec = readForwarderRecord(record);
  if (!rec || !forwarderAlive(rec)) {
    rmSync(record, { force: true });
    return false;
  }
  process.kill(rec.pid, 'SIGTERM');
  for (let i = 0; i < 50 && forwarderAlive(rec); i++) await sleep(100);
  if (forwarderAlive(rec)) process.kill(rec.pid, 'SIGKILL');
  rmSync(record, { force: true });
  return true;
}

/** Where a lab keeps the forwarder's record. */
export function forwarderRecordPath(stateDir: string): string {
  return join(stateDir, 'api-forward.json');
}
