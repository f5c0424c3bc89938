// Assertions about what the API holds: an object's fields as `kubectl get -o
// jsonpath` would show them (an exercise checks what the learner created),
// and the cluster's ranges kept apart — the fix of an overlapping pod and
// service CIDR, checked on the ranges and on the live addresses.
import type { KubeObject, Pod, Service } from '../../k8s/objects.ts';
import { RESOURCES } from '../../k8s/objects.ts';
import { resolveKind, resourcePath } from '../../lifecycle/lab-api.ts';
import { cidrContains, cidrOverlap, cidrString, parseCidr } from '../../util/cidr.ts';
import type { AssertionOf } from '../../lab/schema.ts';
import type { ScenarioContext } from '../context.ts';
import { CheckFailed } from '../../util/errors.ts';

/** "spec.ports[0].nodePort" -> ["spec", "ports", 0, "nodePort"]. */
export function fieldSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = part.match(/^([^[]+)((?:\[\d+\])*)$/);
    if (!m) throw new CheckFailed(`"${path}" is not a field path`);
    out.push(m[1], ...[...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])));
  }
  return out;
}

export function fieldValue(obj: unknown, path: string): unknown {
  return fieldSegments(path).reduce<unknown>((v, seg) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined), obj);
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export type ObjectSpec = Pick<AssertionOf<'object'>, 'kind' | 'name' | 'namespace' | 'fields'>;

export async function checkObject(ctx: ScenarioContext, spec: ObjectSpec): Promise<string> {
  const kind = resolveKind(spec.kind);
  const ns = RESOURCES[kind].namespaced ? spec.namespace : undefined;
  const obj = await ctx.api.client.getOrUndefined<KubeObject>(resourcePath(kind, ns, spec.name));
  const what = `${kind.toLowerCase()} ${ns ? `${ns}/` : ''}${spec.name}`;
  if (!obj) throw new CheckFailed(`${what} does not exist`);
  const wrong: string[] = [];
  const right: string[] = [];
  for (const [path, want] of Object.entries(spec.fields ?? {})) {
    const got = fieldValue(obj, path);
    if (got === undefined) wrong.push(`${path} is not set (want ${show(want)})`);
    else if (show(got) !== String(want)) wrong.push(`${path} is ${show(got)}, not ${show(want)}`);
    else right.push(`${path}=${show(got)}`);
  }
  if (wrong.length) throw new CheckFailed(`${what}: ${wrong.join('; ')}`);
  return `${what} exists${right.length ? `: ${right.join(', ')}` : ''}`;
}

/**
 * The fix of overlapping ranges: the service CIDR shares no address with the
 * pod CIDR or any node's pod range, and no Service's ClusterIP is a pod's IP.
 */
export async function checkRangesDisjoint(ctx: ScenarioContext): Promise<string> {
  const { layout } = ctx;
  const services = parseCidr(layout.serviceCIDR);
  const problems: string[] = [];
  const podSpan = cidrOverlap(parseCidr(layout.podCIDR), services);
  if (podSpan) problems.push(`the pod CIDR ${layout.podCIDR} overlaps the service CIDR ${layout.serviceCIDR} on ${cidrString(podSpan)}`);
  for (const n of layout.nodes) {
    const span = cidrOverlap(parseCidr(n.podCIDR), services);
    if (span) problems.push(`${n.name}'s pod range ${n.podCIDR} overlaps the service CIDR on ${cidrString(span)}`);
  }
  const podIPs = new Map<string, string>();
  for (const p of await ctx.api.list<Pod>('Pod')) if (p.status?.podIP) podIPs.set(p.status.podIP, `${p.metadata?.namespace}/${p.metadata?.name}`);
  for (const s of await ctx.api.list<Service>('Service')) {
    const ip = s.spec?.clusterIP;
    const pod = ip ? podIPs.get(ip) : undefined;
    if (pod) problems.push(`Service ${s.metadata?.namespace}/${s.metadata?.name} has ClusterIP ${ip}, which is pod ${pod}'s IP`);
  }
  if (problems.length) throw new CheckFailed(problems.join('; '));
  const inRange = [...podIPs.keys()].filter((ip) => cidrContains(services, ip));
  if (inRange.length) throw new CheckFailed(`pods have addresses in the service CIDR ${layout.serviceCIDR}: ${inRange.join(', ')}`);
  return `service CIDR ${layout.serviceCIDR} is apart from the pod CIDR ${layout.podCIDR} and every node's pod range (${layout.nodes.map((n) => n.podCIDR).join(', ')}); no ClusterIP is a pod's IP`;
}
