// The side effects of a trace, kept apart from the reading of what they
// return: background monitors in a node (conntrack -E, nft monitor trace),
// counter snapshots, a node's addresses, and the one connection itself.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from '../cluster/driver.ts';
import { runIn, type ResolvedTarget } from '../scenario/context.ts';
import { parseIptablesSave, type SavedDump } from '../proxy/iptables/save-parse.ts';
import type { Monitor, TraceToolkit } from '../proxy/tracer.ts';
import type { Via } from './target.ts';

/** How long a monitor gets to open its netlink socket before the connection is made. */
const MONITOR_SETTLE_MS = 400;

/**
 * Starts `argv` in the node in the background. The wrapper writes its pid
 * to a file first (the script is fixed; argv goes through "$@", never into the
 * script), so stop() can end exactly this process (SIGTERM: conntrack and nft
 * both flush and exit).
 */
export async function startMonitor(node: LabNode, argv: string[]): Promise<Monitor> {
  const pidFile = `/tmp/svclab-trace-${randomBytes(4).toString('hex')}.pid`;
  const done = node.exec(['sh', '-c', 'echo $$ > "$0"; exec "$@"', pidFile, ...argv], { allowFailure: true, timeoutMs: 120_000, where: node.name });
  let pid: string | undefined;
  for (let i = 0; i < 50 && !pid; i++) {
    pid = (await node.readFile(pidFile))?.trim() || undefined;
    if (!pid) await sleep(40);
  }
  await sleep(MONITOR_SETTLE_MS);
  return {
    async stop() {
      if (pid && /^\d+$/.test(pid)) await node.exec(['kill', '-TERM', pid], { allowFailure: true });
      const r = await done;
      await node.exec(['rm', '-f', pidFile], { allowFailure: true });
      return r.stdout;
    },
  };
}

/** What a mode's tracer may do in a node (src/proxy/tracer.ts). */
export const traceToolkit: TraceToolkit = { startMonitor };

/** `iptables-save -c` of the whole node (nat and filter, with packet counters). */
export async function saveCounters(node: LabNode): Promise<SavedDump> {
  const r = await node.exec(['iptables-save', '-c'], { where: node.name });
  return parseIptablesSave(r.stdout);
}

/** The node's IPv4 addresses (`ip -4 -o addr`): what addrtype LOCAL matches. */
export async function localAddresses(node: LabNode): Promise<string[]> {
  const r = await node.exec(['ip', '-4', '-o', 'addr', 'show'], { allowFailure: true, where: node.name });
  return [...r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

export interface ConnectionOutcome {
  ok: boolean;
  /** connected | refused | timeout | error — or the client's failure in a few words. */
  result: string;
  sport?: number;
  ms: number;
  /** Who the answer says served it: nginx/netexec's "pod=NAME", MariaDB's @@hostname. */
  answeredBy?: string;
  /** What the client printed (one line). */
  output?: string;
  error?: string;
}

export interface ConnectSpec {
  via: Via;
  host: string;
  port: number;
  /** Source port to use where the client can choose it (probe, curl). */
  sport?: number;
  nodeBin: string;
  bundle: string;
  password?: string;
  timeoutMs?: number;
}

/** Makes the one real connection from the source: a TCP connect, an HTTP GET or a SQL query. */
export async function connectOnce(from: ResolvedTarget, spec: ConnectSpec): Promise<ConnectionOutcome> {
  const t0 = Date.now();
  const secs = String(Math.max(1, Math.round((spec.timeoutMs ?? 3000) / 1000)));
  const budget = (spec.timeoutMs ?? 3000) + 7000;
  if (spec.via === 'http') {
    const r = await runIn(from, ['curl', '-sS', '--max-time', secs, ...(spec.sport ? ['--local-port', String(spec.sport)] : []), `http://${spec.host}:${spec.port}/`], budget);
    const who = r.stdout.match(/pod=(\S+)/)?.[1];
    return {
      ok: r.code === 0,
      result: r.code === 0 ? 'connected' : curlResult(r.code),
      sport: spec.sport,
      ms: Date.now() - t0,
      ...(who ? { answeredBy: who } : {}),
      output: r.stdout.trim().split('\n')[0]?.slice(0, 200),
      ...(r.code !== 0 ? { error: r.stderr.trim().split('\n').pop() } : {}),
    };
  }
  if (spec.via === 'sql') {
    const r = await runIn(from, ['mariadb', `--connect-timeout=${secs}`, '-h', spec.host, '-P', String(spec.port), '-uroot', `-p${spec.password ?? 'lab'}`, '-N', '-B', '-e', 'SELECT @@hostname'], budget);
    const who = r.code === 0 ? r.stdout.trim() : undefined;
    const err = r.stderr.trim().split('\n').pop() ?? '';
    return {
      ok: r.code === 0,
      // A server that answers with an error (wrong password) still answered: the connection itself worked.
      result: r.code === 0 || /ERROR 1045|Access denied/.test(err) ? 'connected' : /ERROR 2002|ERROR 2003|ERROR 2013/.test(err) ? (/timed out|110\)/.test(err) ? 'timeout' : 'refused') : 'error',
      ms: Date.now() - t0,
      ...(who ? { answeredBy: who } : {}),
      ...(r.code !== 0 ? { error: err } : {}),
    };
  }
  const r = await runIn(from, [spec.nodeBin, spec.bundle, 'probe', 'connect', `${spec.host}:${spec.port}`, '--timeout', String(spec.timeoutMs ?? 3000), ...(spec.sport ? ['--local-port', String(spec.sport)] : [])], budget);
  let res: { result?: string; error?: string; localPort?: number; ms?: number } = {};
  try {
    res = JSON.parse(r.stdout);
  } catch {
    res = { result: 'error', error: r.stderr.trim().split('\n').pop() };
  }
  return {
    ok: res.result === 'connected',
    result: res.result ?? 'error',
    sport: res.localPort ?? spec.sport,
    ms: res.ms ?? Date.now() - t0,
    ...(res.error ? { error: res.error } : {}),
  };
}

function curlResult(code: number): string {
  if (code === 7) return 'refused';
  if (code === 28) return 'timeout';
  return `curl exit ${code}`;
}

/** A source port for the traced connection: below Linux's ephemeral range, so no other socket holds it by chance. */
export function pickSourcePort(): number {
  return 20000 + Math.floor(Math.random() * 10000);
}
