// IPVS mode as a ProxyBackend for the proxy daemon, which runs inside the node:
// every sync renders the whole state and applies only the diff against the
// kernel (upstream's IPVS proxier has no partial syncs either).
import { run } from '../../util/exec.ts';
import type { ProxySettings, ProxyState } from '../model.ts';
import type { ProxyBackend, SyncOutcome } from '../proxier.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { iptablesBinaries, type CommandRunner } from '../jump-rules.ts';
import { applyIpvs, cleanupIpvs } from './apply.ts';
import { requireIpvsKernel } from './kernel.ts';
import { renderIpvs, type IpvsRenderOptions } from './render.ts';

export interface IpvsBackendOptions extends IpvsRenderOptions {
  iptablesBackend?: 'nft' | 'legacy';
  log?: (line: string) => void;
  /** Let setup modprobe ip_vs/dummy (VM nodes). Leave off for namespace nodes: modules are host-wide. */
  loadModules?: boolean;
  /** Where commands run; default: right here (the proxy runs inside its node). Tests pass a recorder. */
  runner?: CommandRunner;
}

/**
 * IPVS mode's iptables rules hardly change (they follow which sets are
 * non-empty). Upstream restores them on every sync; an unchanged payload is
 * rewritten here only once this long has passed (upstream's syncPeriod), which
 * still repairs a flushed table: on a TCG VM the restore and the jump check
 * cost seconds of every sync.
 */
export const IPTABLES_REFRESH_MS = 30_000;

export class IpvsBackend implements ProxyBackend {
  readonly mode = 'ipvs' as const;
  private readonly node: CommandRunner;
  private readonly bin;
  private kernelVersion = '';
  private first = true;
  private lastIptables = '';
  private lastIptablesAt = 0;

  constructor(private readonly settings: ProxySettings, private readonly opts: IpvsBackendOptions = {}) {
    this.node = opts.runner ?? { name: settings.nodeName || 'local', exec: (argv, o) => run(argv, o) };
    this.bin = iptablesBinaries(opts.iptablesBackend);
  }

  async setup(): Promise<void> {
    await requireIpvsKernel(this.node, { loadModules: this.opts.loadModules });
    this.kernelVersion = (await this.node.exec(['uname', '-r'])).stdout.trim();
    this.lastIptables = '';
  }

  async sync(state: ProxyState, _changed: Set<string> | undefined, _metrics: ProxyMetrics): Promise<SyncOutcome> {
    const rules = renderIpvs(state, this.settings, { strictARP: this.opts.strictARP, kernelVersion: this.opts.kernelVersion ?? this.kernelVersion });
    const skipIptables = rules.iptables === this.lastIptables && Date.now() - this.lastIptablesAt < IPTABLES_REFRESH_MS;
    const plan = await applyIpvs(this.node, rules, { setup: this.first, bin: this.bin, loadModules: this.opts.loadModules, kernelChecked: this.kernelVersion !== '', skipIptables });
    this.first = false;
    if (!skipIptables) {
      this.lastIptables = rules.iptables;
      this.lastIptablesAt = Date.now();
    }
    if (plan.draining.length) this.opts.log?.(`draining ${plan.draining.length} real servers: ${plan.draining.join(', ')}`);
    return { full: true, written: plan.ipvsadm.length + plan.ipset.length + plan.addrAdd.length + plan.addrDel.length };
  }

  async lostState(): Promise<boolean> {
    // Every sync already diffs against the kernel, so a flushed table is repaired by the next one.
    return false;
  }

  async cleanup(): Promise<void> {
    await cleanupIpvs(this.node, this.bin);
  }
}
