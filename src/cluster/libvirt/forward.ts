// The host cannot reach the VMs' network (it lives only in the lab's
// namespaces), yet the CLI talks to the lab's apiserver through a unix socket
// on the host. This forwarder bridges the two: a small Node process inside the
// external client's namespace listens on a unix socket (a file, so the host
// sees it) and relays each connection to host:port on the node network.
// It lives in a lab namespace, so `down` ends it with the namespace's other
// processes.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import type { NetnsNode } from '../netns/node.ts';

/** Fixed program text; the socket path, host and port arrive as argv, never inside the code. */
export const FORWARD_JS = `
const net = require('node:net');
const fs = require('node:fs');
const [sock, host, port] = process.argv.slice(1);
try { fs.unlinkSync(sock); } catch {}
const server = net.createServer((c) => {
  const up = net.connect(Number(port), host);
  c.pipe(up).pipe(c);
  const end = () => { c.destroy(); up.destroy(); };
  c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
});
server.listen(sock, () => console.log('forwarding ' + sock + ' -> ' + host + ':' + port));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { try { fs.unlinkSync(sock); } catch {} process.exit(0); });
`;

/** argv of the forwarder (run it with `node`, anywhere that reaches host:port). */
export function forwardArgv(nodeBin: string, socketPath: string, host: string, port: number): string[] {
  return [nodeBin, '-e', FORWARD_JS, socketPath, host, String(port)];
}

/**
 * Starts the forwarder in the external client's namespace; returns its pid.
 * The socket appears when it listens (the caller waits for its service anyway).
 */
export async function startForward(external: NetnsNode, socketPath: string, host: string, port: number, logFile: string): Promise<number> {
  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  return external.startDaemon(forwardArgv(process.execPath, socketPath, host, port), logFile);
}

/** What `forward` started, kept in the lab's state dir so later CLI calls can check and revive it. */
export interface ForwardRecord {
  socketPath: string;
  host: string;
  port: number;
  pid: number;
}

export function writeForwardRecord(file: string, rec: ForwardRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(rec) + '\n');
}

export function readForwardRecord(file: string): ForwardRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ForwardRecord;
  } catch {
    return undefined;
  }
}

/** Is `rec.pid` still our forwarder (not a recycled pid) and its socket there? */
export function forwardAlive(rec: ForwardRecord): boolean {
  try {
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(rec.socketPath) && existsSync(rec.socketPath);
  } catch {
    return false;
  }
}

/** Waits until the forwarder listens (its socket file exists). */
export async function waitForSocket(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}
