// The host end of the guest agent's protocol (src/image/agent-source.ts): JSON
// lines over the VM's virtio-serial port, which qemu (or libvirt) exposes on
// the host as a unix socket. Requests carry ids unique to this client, so a
// late answer meant for an earlier connection is recognised and dropped.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { EnvironmentError } from '../../util/errors.ts';

export type AgentRequest =
  | { op: 'ping' }
  | { op: 'exec'; argv: string[]; input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number }
  | { op: 'daemon'; argv: string[]; log: string; env?: Record<string, string> }
  | { op: 'write'; path: string; data: string; gzip?: boolean; mode?: number; append?: boolean }
  | { op: 'read'; path: string };

export interface AgentReply {
  id: string;
  error?: string;
  [k: string]: unknown;
}

/** The agent answered with an error, or did not answer in time. */
export class AgentError extends Error {
  override name = 'AgentError';
}

export class AgentClient {
  private readonly session = randomBytes(4).toString('hex');
  private next = 0;
  private buffer = '';
  private readonly waiting = new Map<string, { resolve: (r: AgentReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closedWith?: Error;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    /** Names the VM in errors. */
    readonly where: string,
    private readonly socket?: Socket,
  ) {
    input.setEncoding('utf8');
    input.on('data', (d: string) => this.onData(d));
    input.on('close', () => this.fail(new AgentError(`${where}: agent connection closed`)));
    input.on('error', (err) => this.fail(new AgentError(`${where}: agent connection: ${err.message}`)));
    output.on('error', () => {});
    this.idle();
  }

  /** Connects to the unix socket of a VM's agent port. */
  static connect(socketPath: string, where: string, timeoutMs = 5000): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new AgentError(`${where}: no connection to ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new AgentClient(sock, sock, where, sock));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new AgentError(`${where}: cannot connect to ${socketPath}: ${err.message}`));
      });
    });
  }

  request(req: AgentRequest, timeoutMs = 60_000): Promise<AgentReply> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = `${this.session}-${++this.next}`;
    return new Promise<AgentReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.idle();
        reject(new AgentError(`${this.where}: agent did not answer ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.socket?.ref();
      this.output.write(JSON.stringify({ id, ...req }) + '\n');
    }).then((reply) => {
      if (reply.error) throw new AgentError(`${this.where}: agent ${req.op} failed: ${reply.error}`);
      return reply;
    });
  }

  close(): void {
    this.fail(new AgentError(`${this.where}: agent connection closed`));
    this.socket?.destroy();
    if (!this.socket) this.output.end();
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: AgentReply;
      try {
        reply = JSON.parse(line);
      } catch {
        continue;
      }
      const w = this.waiting.get(reply.id);
      if (!w) continue; // an answer to an earlier connection's request
      this.waiting.delete(reply.id);
      clearTimeout(w.timer);
      w.resolve(reply);
    }
    this.idle();
  }

  /** Lets the process exit while nothing is in flight (the CLI must not hang on an open socket). */
  private idle(): void {
    if (this.waiting.size === 0) this.socket?.unref();
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(err);
      this.waiting.delete(id);
    }
  }
}

/**
 * Connects and pings until the agent answers: the socket appears when qemu
 * starts, the agent some seconds later when the guest has booted.
 */
export async function waitForAgent(socketPath: string, where: string, timeoutMs: number): Promise<AgentClient> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    let client: AgentClient | undefined;
    try {
      client = await AgentClient.connect(socketPath, where, 2000);
      await client.request({ op: 'ping' }, Math.min(5000, Math.max(500, deadline - Date.now())));
      return client;
    } catch (err) {
      last = (err as Error).message;
      client?.close();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new EnvironmentError(`${where}: the VM's agent did not answer within ${Math.round(timeoutMs / 1000)} s (${last})`,
    'look at the console log in the VM state directory (svclab keeps it beside the disk)');
}
