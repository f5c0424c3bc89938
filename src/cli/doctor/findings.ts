// `svclab doctor`'s checks, pure: a lab's address plan and (for a running lab)
// what the API and the nodes report go in, findings come out — each says what
// is wrong, why it breaks service networking, what upstream Kubernetes does
// about it and how to fix it. Gathering the state is gather.ts's job.
import type { EndpointSlice, K8sNode, Pod, Service } from '../../k8s/objects.ts';
import { LABEL_SERVICE_NAME } from '../../k8s/labels.ts';
import { cidrContains, cidrOverlap, cidrString, lastIP, bigToIP, parseCidr, type Cidr } from '../../util/cidr.ts';
import { NODE_POD_PREFIX, nodePodSlices } from '../../lab/layout.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable id for scripts and -o json: "pod-service-overlap", "service-no-endpoints", ... */
  check: string;
  severity: Severity;
  /** One line: what is wrong, with the names and numbers. */
  title: string;
  /** Why it matters, how upstream behaves, what to do. */
  details: string[];
  /** The object or node it is about. */
  subject?: string;
  data?: Record<string, unknown>;
}

/** A finding's severity counts as a problem (exit code 1) unless it is informational. */
export const isProblem = (f: Finding) => f.severity !== 'info';

export interface NetworkPlan {
  nodeNetwork: string;
  podCIDR: string;
  serviceCIDR: string;
  nodes: { name: string; ip?: string }[];
}

/** "10.96.0.0/12 (10.96.0.0 – 10.111.255.255)" */
function span(c: Cidr): string {
  return `${cidrString(c)} (${c.ip} – ${bigToIP(lastIP(c), c.family)})`;
}

/** Overlaps between the node network, the pod CIDR and the service CIDR. */
export function networkFindings(plan: NetworkPlan): Finding[] {
  const out: Finding[] = [];
  const nodeNet = parseCidr(plan.nodeNetwork);
  const pods = parseCidr(plan.podCIDR);
  const services = parseCidr(plan.serviceCIDR);

  const podSvc = cidrOverlap(pods, services);
  if (podSvc) {
    const slices = nodePodSlices(plan.podCIDR, plan.serviceCIDR, plan.nodes.length);
    out.push({
      check: 'pod-service-overlap',
      severity: 'error',
      title: `pod CIDR ${cidrString(pods)} overlaps service CIDR ${cidrString(services)} on ${span(podSvc)}`,
      details: [
        `why it breaks Services: kube-proxy makes every node rewrite traffic to a ClusterIP:port by its destination alone (the DNAT behind KUBE-SERVICES, hooked into PREROUTING and OUTPUT). The ClusterIP allocator and the pod IPAM do not know about each other, so an address in ${cidrString(podSvc)} can belong to a pod and to a Service at once: connections to that pod's IP:port are then load-balanced to the Service's endpoints instead, and replies come back from an address the client never dialled.`,
        'what upstream does: nothing rejects it. kubeadm and kube-apiserver only check that each range parses and is large enough, kube-proxy only checks the syntax. kube-controller-manager\'s node IPAM marks the service range as taken inside the cluster CIDR (filterOutServiceRange) and carves the nodes\' pod CIDRs around it — which hides the problem until a pod or a static address lands in the overlap.',
        `in this lab: like kube-controller-manager, svclab gives the nodes /${NODE_POD_PREFIX} slices outside the service range${slices.length ? ` (${slices.map(cidrString).join(', ')})` : ''}.`,
        `fix: choose ranges that do not overlap (for example podCIDR 10.244.0.0/16 and serviceCIDR 10.96.0.0/12), then re-create the Services so their ClusterIPs come from the new range.`,
      ],
      data: { podCIDR: cidrString(pods), serviceCIDR: cidrString(services), overlap: cidrString(podSvc) },
    });
  }

  for (const [other, what, key] of [[pods, 'pod CIDR', 'podCIDR'], [services, 'service CIDR', 'serviceCIDR']] as const) {
    const o = cidrOverlap(nodeNet, other);
    if (!o) continue;
    const inside = plan.nodes.filter((n) => n.ip && cidrContains(other, n.ip));
    out.push({
      check: key === 'podCIDR' ? 'node-pod-overlap' : 'node-service-overlap',
      severity: 'error',
      title: `node network ${cidrString(nodeNet)} overlaps the ${what} ${cidrString(other)} on ${span(o)}`,
      details: [
        key === 'podCIDR'
          ? 'why it breaks: each node routes its pod CIDR slice to its pod bridge and the other slices to the other nodes, so a node address inside the pod range is routed as if it were a pod — node-to-node traffic, NodePorts and the apiserver become unreachable from some nodes.'
          : 'why it breaks: kube-proxy DNATs traffic to ClusterIP:port on every node, so a node address inside the service range can be captured by a Service; and the ClusterIP allocator may hand out a node\'s own address.',
        `in this lab: svclab refuses such a lab file before creating anything (cluster.nodeNetwork or cluster.${key}).${inside.length ? ` Nodes inside the ${what}: ${inside.map((n) => `${n.name} ${n.ip}`).join(', ')}.` : ''}`,
        `fix: move cluster.nodeNetwork (default 192.168.49.0/24) or cluster.${key} so the ranges are disjoint.`,
      ],
      data: { nodeNetwork: cidrString(nodeNet), [key]: cidrString(other), overlap: cidrString(o) },
    });
  }
  return out;
}

/** What a running lab reports, as gather.ts collects it. */
export interface ClusterState {
  serviceCIDR: string;
  services: Service[];
  slices: EndpointSlice[];
  pods: Pod[];
  nodes: K8sNode[];
  /** kube-proxy's /healthz on each node (127.0.0.1:10256 inside the node). */
  proxyHealth: { node: string; ok: boolean; detail: string }[];
}

const podReady = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;
const selectorText = (s: Record<string, string>) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(',');

/** Why a pod is not Ready, in kubectl's words where there are some. */
function notReadyReason(p: Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  const cs = p.status?.containerStatuses ?? [];
  const waiting = cs.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting) return waiting.reason ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : 'waiting';
  const terminated = cs.find((c) => c.state?.terminated)?.state?.terminated;
  if (terminated) return `${terminated.reason ?? 'Terminated'} (exit code ${terminated.exitCode})`;
  if (!p.spec?.nodeName) return 'not scheduled to a node';
  const running = cs.filter((c) => c.state?.running && !c.ready).map((c) => c.name);
  if (running.length) return `container${running.length > 1 ? 's' : ''} ${running.join(', ')} running but not ready (readiness probe failing?)`;
  return p.status?.reason ?? p.status?.phase ?? 'Pending';
}

/** kube-proxy health, endpoints of every Service, pods that are not Ready, pod addresses in the service range. */
export function clusterFindings(state: ClusterState): Finding[] {
  const out: Finding[] = [];
  for (const h of state.proxyHealth) {
    if (h.ok) continue;
    out.push({
      check: 'kube-proxy-unhealthy',
      severity: 'error',
      subject: `node/${h.node}`,
      title: `kube-proxy on ${h.node} is not healthy: ${h.detail}`,
      details: [
        'why it matters: kube-proxy\'s /healthz (port 10256) answers 200 only while its rules are in sync with the API; a stale or stopped proxy leaves this node\'s service rules out of date, so Services work from some nodes and not from others.',
        `look: svclab exec ${h.node} -- curl -s 127.0.0.1:10256/healthz, and the proxy's log under the lab's state directory.`,
      ],
    });
  }

  const podsByNs = new Map<string, Pod[]>();
  for (const p of state.pods) podsByNs.set(p.metadata?.namespace ?? 'default', [...(podsByNs.get(p.metadata?.namespace ?? 'default') ?? []), p]);
  for (const svc of state.services) {
    const sel = svc.spec?.selector;
    // ExternalName and selector-less Services get no EndpointSlices from the controller.
    if (svc.spec?.type === 'ExternalName' || !sel || !Object.keys(sel).length) continue;
    const ns = svc.metadata?.namespace ?? 'default';
    const slices = state.slices.filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.[LABEL_SERVICE_NAME] === svc.metadata?.name);
    const ready = slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false));
    if (ready.length) continue;
    const matching = (podsByNs.get(ns) ?? []).filter((p) => Object.entries(sel).every(([k, v]) => p.metadata?.labels?.[k] === v));
    const details: string[] = [];
    if (!matching.length) {
      // pod-template-hash is the deployment controller's bookkeeping, not something a selector should name.
      const shown = (p: Pod) => Object.fromEntries(Object.entries(p.metadata?.labels ?? {}).filter(([k]) => k !== 'pod-template-hash'));
      const labelSets = [...new Set((podsByNs.get(ns) ?? []).map((p) => selectorText(shown(p))).filter(Boolean))];
      details.push(`no pod in namespace ${ns} has the labels ${selectorText(sel)}${labelSets.length ? `; the pods there carry: ${labelSets.slice(0, 5).join(' | ')}` : ''}.`);
      details.push('fix: correct the Service\'s selector (or the pods\' labels) so they match; the EndpointSlice controller then fills the slices and kube-proxy programs the backends.');
    } else {
      const notReady = matching.filter((p) => !podReady(p));
      details.push(`${matching.length} pod${matching.length > 1 ? 's' : ''} match ${selectorText(sel)}, ${notReady.length} of them not Ready (${notReady.map((p) => `${p.metadata?.name}: ${notReadyReason(p)}`).join('; ') || 'none'}).`);
      details.push('only Ready pods become serving endpoints; fix the pods (see their status with svclab describe pod NAME).');
    }
    details.push('why it matters: a Service without ready endpoints gets a REJECT rule from kube-proxy (iptables: KUBE-SERVICES in the filter table), so clients see "connection refused" rather than a timeout.');
    out.push({
      check: 'service-no-endpoints',
      severity: 'warning',
      subject: `service/${key(svc)}`,
      title: `service ${key(svc)} has no ready endpoints`,
      details,
      data: { selector: sel, matchingPods: matching.map((p) => p.metadata?.name) },
    });
  }

  for (const p of state.pods) {
    if (podReady(p) || p.status?.phase === 'Succeeded') continue;
    out.push({
      check: 'pod-not-ready',
      severity: 'warning',
      subject: `pod/${key(p)}`,
      title: `pod ${key(p)} is not Ready: ${notReadyReason(p)}`,
      details: ['why it matters: a pod that is not Ready is left out of its Services\' endpoints (or kept only as "serving: false" while terminating), so traffic skips it.'],
      data: { phase: p.status?.phase, node: p.spec?.nodeName },
    });
  }

  const services = parseCidr(state.serviceCIDR);
  const clusterIPs = new Map(state.services.flatMap((s) => (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip !== 'None').map((ip) => [ip, s] as const)));
  for (const p of state.pods) {
    const ip = p.status?.podIP;
    if (!ip || p.spec?.hostNetwork || !cidrContains(services, ip)) continue;
    const svc = clusterIPs.get(ip);
    out.push({
      check: svc ? 'pod-ip-is-cluster-ip' : 'pod-ip-in-service-cidr',
      severity: svc ? 'error' : 'warning',
      subject: `pod/${key(p)}`,
      title: svc
        ? `pod ${key(p)} has the address ${ip}, which is also the ClusterIP of service ${key(svc)}`
        : `pod ${key(p)} has the address ${ip}, inside the service CIDR ${cidrString(services)}`,
      details: svc
        ? [`traffic to ${ip} on the Service's port${(svc.spec?.ports ?? []).length > 1 ? 's' : ''} ${(svc.spec?.ports ?? []).map((sp) => `${sp.port}/${sp.protocol ?? 'TCP'}`).join(', ')} is DNATed by kube-proxy to the Service's endpoints on every node, so it never reaches this pod; other ports still do.`, 'fix: separate the pod and service CIDRs and re-create the pods and Services.']
        : [`the ClusterIP allocator may hand ${ip} to a Service at any time; from then on that Service's port is shadowed for this pod.`, 'fix: separate the pod and service CIDRs.'],
      data: { podIP: ip, service: svc ? key(svc) : undefined },
    });
  }

  for (const n of state.nodes) {
    for (const c of n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])) {
      const o = cidrOverlap(parseCidr(c), services);
      if (!o) continue;
      out.push({
        check: 'node-podcidr-in-service-cidr',
        severity: 'error',
        subject: `node/${n.metadata?.name}`,
        title: `node ${n.metadata?.name}'s pod CIDR ${c} overlaps the service CIDR on ${cidrString(o)}`,
        details: ['every pod on this node may get an address a Service can also get; kube-controller-manager would never assign such a slice (filterOutServiceRange).'],
      });
    }
  }
  return out;
}
