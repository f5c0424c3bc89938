// A node of the libvirt driver: a VM reached only through its guest agent on a
// virtio-serial port. Same LabNode contract as a netns node, so everything
// above the driver runs unchanged on VMs.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { LabNode } from '../driver.ts';
import { CommandError } from '../../util/errors.ts';
import type { ExecOptions, ExecResult } from '../../util/exec.ts';
import { AgentClient, AgentError } from './agent-client.ts';

/** Big files travel in pieces so one JSON line stays small and progress is steady. */
const CHUNK = 1024 * 1024;

export class VmNode implements LabNode {
  private client?: Promise<AgentClient>;
  /**
   * Callers' exec timeouts are in netns time; a TCG guest runs the same
   * command several times slower (a pod's mariadb client took >10 s here), so
   * they are stretched by this factor (the driver sets it).
   */
  timeScale = 1;
  private features?: Promise<string[]>;

  constructor(
    readonly name: string,
    readonly ip: string,
    /** Opens a connection to this VM's agent (a unix socket, or a pipe in tests). */
    private readonly open: () => Promise<AgentClient>,
  ) {}

  /** The agent socket path of a running VM, connected lazily and kept for later calls. */
  static onSocket(name: string, ip: string, socketPath: string): VmNode {
    return new VmNode(name, ip, () => AgentClient.connect(socketPath, name));
  }

  private agent(): Promise<AgentClient> {
    this.client ??= this.open().catch((err) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  /** Sends a request, reconnecting once if the connection had dropped (agent restart, VM reboot). */
  private async call(req: Parameters<AgentClient['request']>[0], timeoutMs?: number) {
    const client = await this.agent();
    try {
      return await client.request(req, timeoutMs);
    } catch (err) {
      if (!(err instanceof AgentError) || !/connection closed/.test(err.message)) throw err;
      this.client = undefined;
      return (await this.agent()).request(req, timeoutMs);
    }
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const where = opts.where ?? this.name;
    const env = opts.env && Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
    // The agent enforces timeoutMs in the guest; the host waits a little longer for the answer.
    const timeoutMs = opts.timeoutMs && opts.timeoutMs * this.timeScale;
    const reply = await this.call({ op: 'exec', argv, input: opts.input, env, cwd: opts.cwd, timeoutMs },
      timeoutMs ? timeoutMs + 10_000 * this.timeScale : 10 * 60_000);
    const result = { code: Number(reply.code), stdout: String(reply.stdout ?? ''), stderr: String(reply.stderr ?? '') };
    if (result.code !== 0 && !opts.allowFailure) throw new CommandError(argv, result.code, result.stderr || result.stdout, where);
    return result;
  }

  async startDaemon(argv: string[], logFile: string, env?: Record<string, string>): Promise<number> {
    const reply = await this.call({ op: 'daemon', argv, log: logFile, env });
    return Number(reply.pid);
  }

  async writeFile(path: string, content: string, mode?: number): Promise<void> {
    await this.writeBytes(path, Buffer.from(content, 'utf8'), mode);
  }

  async readFile(path: string): Promise<string | undefined> {
    const reply = await this.call({ op: 'read', path });
    if (reply.missing) return undefined;
    return Buffer.from(String(reply.data), 'base64').toString('utf8');
  }

  /** Copies a host file into the VM (e.g. dist/svclab.mjs). */
  async copyIn(hostPath: string, guestPath: string, mode?: number): Promise<void> {
    await this.writeBytes(guestPath, readFileSync(hostPath), mode);
  }

  async writeBytes(path: string, data: Buffer, mode?: number): Promise<void> {
    // Compress big files when the agent can unpack them: the serial port is the bottleneck.
    const gzip = data.length > 16 * 1024 && (await this.agentFeatures()).includes('gzip');
    for (let off = 0; off === 0 || off < data.length; off += CHUNK) {
      const piece = data.subarray(off, off + CHUNK);
      await this.call({ op: 'write', path, data: (gzip ? gzipSync(piece) : piece).toString('base64'), gzip, append: off > 0, mode });
    }
  }

  /** What this VM's agent supports (images built by older svclab versions have fewer features). */
  private agentFeatures(): Promise<string[]> {
    this.features ??= this.call({ op: 'ping' }).then((r) => (Array.isArray(r.features) ? r.features.map(String) : []));
    return this.features;
  }

  /** Drops the connection so the process can exit and other clients can connect. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) (await c.catch(() => undefined))?.close();
  }
}
