// Assertions about API objects, DNS, commands and source addresses.
import { cidrContains, parseCidr, nthIP, parseCidr as pc } from '../../util/cidr.ts';
import type { AssertionOf, StepOf } from '../../lab/schema.ts';
import type { ScenarioContext } from '../context.ts';
import { resolveTarget, runIn, expand, describeTarget, destinations } from '../context.ts';
import { CheckFailed } from '../../util/errors.ts';

export async function checkServiceIP(ctx: ScenarioContext, spec: Pick<AssertionOf<'service-ip'>, 'service' | 'namespace' | 'save'>): Promise<string> {
  const svc = await ctx.api.getService(spec.service, spec.namespace);
  if (!svc) throw new CheckFailed(`service ${spec.service} does not exist`);
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None') throw new CheckFailed(`service ${spec.service} has no ClusterIP`);
  const range = ctx.layout.serviceCIDR;
  if (!cidrContains(parseCidr(range), ip)) throw new CheckFailed(`ClusterIP ${ip} is outside the service CIDR ${range}`);
  if (spec.save) ctx.vars.set(spec.save, ip);
  return `${spec.service} has ClusterIP ${ip}, inside ${range}${spec.save ? ` (saved as \${${spec.save}})` : ''}`;
}

export async function checkDns(ctx: ScenarioContext, spec: Pick<AssertionOf<'dns'>, 'from' | 'names' | 'service' | 'namespace'>): Promise<string> {
  const svc = await ctx.api.getService(spec.service, spec.namespace);
  const want = svc?.spec?.clusterIP;
  if (!want) throw new CheckFailed(`service ${spec.service} does not exist`);
  const from = await resolveTarget(ctx, spec.from);
  for (const name of spec.names) {
    // getent goes through the C resolver: resolv.conf's search path and ndots, as a pod's programs do.
    const r = await runIn(from, ['getent', 'hosts', name]);
    const got = r.stdout.trim().split(/\s+/)[0];
    if (r.code !== 0 || !got) throw new CheckFailed(`${name} does not resolve in ${from.label}`);
    if (got !== want) throw new CheckFailed(`${name} resolves to ${got} in ${from.label}, expected the ClusterIP ${want}`);
  }
  return `${spec.names.join(', ')} → ${want} (cluster DNS ${ctx.layout.dnsIP})`;
}

/** An exec assertion, and the exec step (whose `expect` is optional: exit code 0). */
export async function checkExec(ctx: ScenarioContext, spec: Pick<StepOf<'exec'>, 'on' | 'command' | 'expect'>): Promise<string> {
  const target = await resolveTarget(ctx, spec.on);
  const argv = spec.command.map((a) => expand(ctx, a));
  const r = await runIn(target, argv);
  const wantCode = spec.expect?.exitCode ?? 0;
  if (r.code !== wantCode) throw new CheckFailed(`\`${argv.join(' ')}\` in ${target.label} exited ${r.code}, expected ${wantCode}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  if (spec.expect?.stdout) {
    const re = new RegExp(expand(ctx, spec.expect.stdout), 'm');
    const m = re.exec(r.stdout);
    if (!m) throw new CheckFailed(`output of \`${argv.join(' ')}\` in ${target.label} does not match /${re.source}/:\n${r.stdout.trim().slice(0, 600)}`);
    // Show the line that matched: the rule or flag the check was about.
    const line = r.stdout.slice(r.stdout.lastIndexOf('\n', m.index) + 1).split('\n')[0].trim();
    return `\`${argv.join(' ')}\` in ${target.label}: ${line.length > 240 ? `${line.slice(0, 240)}…` : line}`;
  }
  return `\`${argv.join(' ')}\` in ${target.label}`;
}

/** Addresses that count as "the node" after masquerading: node IPs and each node's pod-network gateway. */
function nodeAddresses(ctx: ScenarioContext): Set<string> {
  const s = new Set<string>();
  for (const n of ctx.layout.nodes) {
    s.add(n.ip);
    s.add(nthIP(pc(n.podCIDR), 1));
  }
  return s;
}

// Several connections per destination: they may land on backends on different nodes, where masquerading differs.
const SOURCE_IP_REQUESTS = 4;

export async function checkSourceIP(ctx: ScenarioContext, spec: Pick<AssertionOf<'source-ip'>, 'from' | 'to' | 'expect' | 'service' | 'namespace'>): Promise<string> {
  const from = await resolveTarget(ctx, spec.from);
  const nodes = nodeAddresses(ctx);
  const lines: string[] = [];
  for (const dest of await destinations(ctx, spec.to, spec.service, spec.namespace)) {
    const seen = new Set<string>();
    for (let i = 0; i < SOURCE_IP_REQUESTS; i++) {
      const r = await runIn(from, ['curl', '-sS', '--max-time', '3', `http://${dest.host}:${dest.port}/`]);
      if (r.code !== 0) throw new CheckFailed(`${describeTarget(spec.from)} → ${dest.label} failed: ${r.stderr.trim()}`);
      const client = r.stdout.match(/client=([0-9a-f.:]+)/)?.[1];
      if (!client) throw new CheckFailed(`the backend's answer names no client address: ${r.stdout.trim()}`);
      seen.add(client.replace(/:\d+$/, ''));
    }
    for (const ip of seen) {
      if (spec.expect === 'client' && ip !== from.ip) throw new CheckFailed(`${dest.label}: backend saw ${ip}, expected the real client ${from.ip} (not masqueraded)`);
      if (spec.expect === 'node' && !nodes.has(ip)) throw new CheckFailed(`${dest.label}: backend saw ${ip}, expected a node address (masqueraded)`);
    }
    lines.push(`${dest.label}: backend saw ${[...seen].join(', ')}`);
  }
  return `${lines.join('; ')} (${spec.expect === 'client' ? 'the real client' : 'masqueraded to a node'})`;
}
