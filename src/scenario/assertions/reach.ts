// Reachability as a learner would test it: a real client (the mariadb client,
// curl) in a pod, node or the external client connects to host:port, over
// repeated connections, and each answer names the pod that served it.
import type { AssertionOf } from '../../lab/schema.ts';
import type { ScenarioContext } from '../context.ts';
import { resolveTarget, runIn, describeTarget, destinations } from '../context.ts';
import { CheckFailed } from '../../util/errors.ts';
import type { Service } from '../../k8s/objects.ts';

export type ReachSpec = Pick<AssertionOf<'reach'>, 'from' | 'to' | 'via' | 'backends' | 'attempts' | 'service' | 'namespace' | 'password' | 'answeredBy'>;

/** One request; returns the answering pod's name (sql, http) or "" (tcp). */
async function oneRequest(ctx: ScenarioContext, spec: ReachSpec, host: string, port: number): Promise<{ ok: boolean; who: string; client?: string; error: string }> {
  const from = await resolveTarget(ctx, spec.from);
  if (spec.via === 'sql') {
    const r = await runIn(from, ['mariadb', '--connect-timeout=3', '-h', host, '-P', String(port), '-uroot', `-p${spec.password ?? 'lab'}`, '-N', '-B', '-e', 'SELECT @@hostname'], 10_000);
    return { ok: r.code === 0, who: r.stdout.trim(), error: (r.stderr || r.stdout).trim() };
  }
  if (spec.via === 'http') {
    const r = await runIn(from, ['curl', '-sS', '--max-time', '3', `http://${host}:${port}/`], 10_000);
    // Our nginx/netexec pages answer "pod=<name> client=<ip>".
    const who = r.stdout.match(/pod=(\S+)/)?.[1] ?? r.stdout.trim();
    const client = r.stdout.match(/client=(\S+)/)?.[1];
    return { ok: r.code === 0, who, client, error: r.stderr.trim() || `curl exit ${r.code}` };
  }
  const r = await runIn(from, [ctx.nodeBin, ctx.bundle, 'probe', 'connect', `${host}:${port}`], 10_000);
  const res = JSON.parse(r.stdout || '{}') as { result?: string; error?: string };
  return { ok: res.result === 'connected', who: '', error: res.result ?? r.stderr };
}

/** The Service a host names: "db-service", "db-service.default…", or a ClusterIP. */
async function serviceForHost(ctx: ScenarioContext, host: string): Promise<string> {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host.split('.')[0];
  const svc = (await ctx.api.list<Service>('Service')).find((s) => s.spec?.clusterIP === host);
  if (!svc) throw new CheckFailed(`no Service has ClusterIP ${host}: say which with service:`);
  return svc.metadata!.name!;
}

export async function checkReach(ctx: ScenarioContext, spec: ReachSpec): Promise<string> {
  const lines: string[] = [];
  for (const dest of await destinations(ctx, spec.to, spec.service, spec.namespace)) {
    lines.push(`${dest.label}: ${await reachOne(ctx, spec, dest.host, dest.port)}`);
  }
  return lines.join('; ');
}

async function reachOne(ctx: ScenarioContext, spec: ReachSpec, host: string, port: number): Promise<string> {
  const { attempts } = spec;
  const seen = new Map<string, number>();
  for (let i = 0; i < attempts; i++) {
    const r = await oneRequest(ctx, spec, host, port);
    if (!r.ok) throw new CheckFailed(`${describeTarget(spec.from)} → ${host}:${port} failed: ${r.error.split('\n').slice(-2).join(' ')}`);
    seen.set(r.who, (seen.get(r.who) ?? 0) + 1);
  }
  const answered = [...seen.entries()].map(([k, v]) => `${k}×${v}`).join(', ');
  if (spec.answeredBy) {
    if (spec.via === 'tcp') throw new CheckFailed('answeredBy needs via: http or sql (a tcp connection does not say who answered)');
    const allowed = new Set((await ctx.api.findPods(spec.answeredBy, spec.namespace)).map((p) => p.name));
    const others = [...seen.keys()].filter((who) => !allowed.has(who));
    if (others.length) {
      throw new CheckFailed(`${host}:${port} was answered by ${others.join(', ')}, not by ${spec.answeredBy.includes('=') ? `pods ${spec.answeredBy}` : `pod ${spec.answeredBy}`} (${answered})`);
    }
  }
  if (spec.via !== 'tcp') {
    let want: number;
    if (spec.backends === 'all') {
      const svc = spec.service ?? (await serviceForHost(ctx, host));
      const eps = await ctx.api.endpointsOf(svc, spec.namespace);
      want = new Set(eps.filter((e) => e.ready).map((e) => e.ip)).size;
      if (want === 0) throw new CheckFailed(`service ${svc} has no ready endpoints to compare with`);
    } else want = spec.backends;
    if (seen.size !== want) throw new CheckFailed(`${host}:${port}: expected answers from ${want} backend(s), got ${seen.size}: ${answered}`);
  }
  return `${attempts} ${spec.via} requests answered by ${answered || 'the service'}`;
}

export type UnreachableSpec = Pick<AssertionOf<'unreachable'>, 'from' | 'to' | 'expect' | 'service' | 'namespace'>;

export async function checkUnreachable(ctx: ScenarioContext, spec: UnreachableSpec): Promise<string> {
  const from = await resolveTarget(ctx, spec.from);
  const lines: string[] = [];
  for (const dest of await destinations(ctx, spec.to, spec.service, spec.namespace)) {
    const r = await runIn(from, [ctx.nodeBin, ctx.bundle, 'probe', 'connect', `${dest.host}:${dest.port}`, '--timeout', '3000'], 10_000);
    let res: { result?: string };
    try {
      res = JSON.parse(r.stdout);
    } catch {
      throw new CheckFailed(`probe failed in ${from.label}: ${r.stderr.trim()}`);
    }
    if (res.result === 'connected') throw new CheckFailed(`${dest.label} still accepts connections from ${from.label}`);
    if (spec.expect !== 'any' && res.result !== spec.expect) throw new CheckFailed(`${dest.label}: expected ${spec.expect}, got ${res.result}`);
    lines.push(`${from.label} → ${dest.label}: ${res.result}`);
  }
  return lines.join('; ');
}
