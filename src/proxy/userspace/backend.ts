// Userspace mode as a ProxyBackend for the proxy daemon (which runs inside the
// node): the proxy sockets live in this process, and each sync re-renders the
// portal rules for the ports they listen on.
import { run } from '../../util/exec.ts';
import { LabFileError } from '../../util/errors.ts';
import type { ProxySettings, ProxyState } from '../model.ts';
import type { ProxyBackend, SyncOutcome } from '../proxier.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { iptablesBinaries, type CommandRunner } from '../jump-rules.ts';
import { applyUserspaceRules, cleanupUserspace } from './apply.ts';
import { UserspaceProxier, type UserspaceProxierOptions } from './proxier.ts';
import { renderUserspace } from './render.ts';

export interface UserspaceBackendOptions extends Omit<UserspaceProxierOptions, 'nodeIPs'> {
  iptablesBackend?: 'nft' | 'legacy';
}

export class UserspaceBackend implements ProxyBackend {
  readonly mode = 'userspace' as const;
  readonly proxier: UserspaceProxier;
  private readonly node: CommandRunner;
  private readonly bin;

  constructor(private readonly settings: ProxySettings, private readonly opts: UserspaceBackendOptions = {}) {
    // Upstream ErrProxyOnLocalhost: a DNAT to 127.0.0.0/8 from another interface is dropped as martian.
    if (/^127\.|^::1$/.test(opts.bindAddress ?? '')) throw new LabFileError(`the userspace proxy cannot bind to ${opts.bindAddress}: cannot proxy on localhost`);
    this.proxier = new UserspaceProxier({ ...opts, nodeIPs: settings.nodeIPs });
    this.node = { name: settings.nodeName || 'local', exec: (argv, o) => run(argv, o) };
    this.bin = iptablesBinaries(opts.iptablesBackend);
  }

  async setup(): Promise<void> {
    // Upstream flushes its chains at start: ports from a previous run are dead.
    await cleanupUserspace(this.node, this.bin);
  }

  async sync(state: ProxyState, _changed: Set<string> | undefined, _metrics: ProxyMetrics): Promise<SyncOutcome> {
    const ports = await this.proxier.update(state);
    const restore = renderUserspace(state, this.settings, ports, this.opts.bindAddress ?? '0.0.0.0');
    await applyUserspaceRules(this.node, restore, this.bin);
    return { full: true, written: restore.split('\n').filter((l) => l.startsWith('-A ')).length };
  }

  async lostState(): Promise<boolean> {
    return false;
  }

  async cleanup(): Promise<void> {
    await this.proxier.close();
    await cleanupUserspace(this.node, this.bin);
  }
}
