// A network namespace that exists for one test: commands run inside it with
// `ip netns exec`, and destroy() removes it (and so every link, rule, set and
// address made in it). Also a tiny check that the host's own netfilter state
// did not move while the test ran.
import { randomBytes } from 'node:crypto';
import { run, type ExecOptions, type ExecResult } from '../../../src/util/exec.ts';
import type { CommandRunner } from '../../../src/proxy/jump-rules.ts';

export interface ThrowawayNetns extends CommandRunner {
  readonly ns: string;
  destroy(): Promise<void>;
}

export async function throwawayNetns(tag: string): Promise<ThrowawayNetns> {
  const ns = `svclab-it-${tag}-${randomBytes(3).toString('hex')}`;
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  return {
    ns,
    name: ns,
    exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
      return run(['ip', 'netns', 'exec', ns, ...argv], { where: ns, ...opts });
    },
    async destroy() {
      // Processes still inside would keep the namespace alive; the tests kill theirs first.
      await run(['ip', 'netns', 'del', ns], { allowFailure: true });
    },
  };
}

/** The host's iptables rules and ipset names (counters and comments dropped). */
export async function hostNetfilterSnapshot(): Promise<string> {
  const ipt = await run(['iptables-save'], { allowFailure: true });
  const sets = await run(['ipset', 'list', '-n'], { allowFailure: true });
  const rules = ipt.stdout.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));
  return [...rules, '--- ipsets', ...sets.stdout.split('\n').sort()].join('\n');
}

export async function preconditions(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = await run(['ip', 'netns', 'list'], { allowFailure: true });
  if (probe.code !== 0) return `ip netns does not work here: ${probe.stderr.trim()}`;
  return undefined;
}
