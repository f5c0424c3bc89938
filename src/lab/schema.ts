// The lab file format (apiVersion svclab.dev/v1alpha1, kind Lab) as zod
// schemas: types, defaults and per-field checks. Checks that need several
// fields at once (networks overlapping, names referenced by the scenario)
// live in validate.ts; the resolved addresses live in layout.ts.
import { z } from 'zod';
import { cidr, duration, ipAddress, oneOf, port } from './fields.ts';
import { KIND_NAMES, KubeObjectSchema } from './k8s-schema.ts';
import { dns1123LabelError, invalidValue } from '../k8s/names.ts';
import { PROXY_MODES } from '../k8s/proxy-mode.ts';

export const STEPS = ['apply', 'delete', 'scale', 'exec', 'wait', 'answer', 'reconfigure'] as const;
export const ASSERTS = ['service-ip', 'proxy-rules', 'dns', 'reach', 'unreachable', 'exec', 'source-ip', 'object', 'answer', 'ranges-disjoint'] as const;

/**
 * Variables every scenario has without saving them: the running lab's ranges,
 * mode and name (they change with a `reconfigure` step).
 */
export const BUILTIN_VARS = ['labName', 'proxyMode', 'nodeNetwork', 'podCIDR', 'serviceCIDR', 'apiServerIP', 'dnsIP'] as const;

/** The lab name prefixes netns and interface names, hence shorter than a DNS label. */
export const LAB_NAME_MAX = 30;

const label = (max = 63) =>
  z.string().superRefine((v, ctx) => {
    const why = dns1123LabelError(v, max);
    if (why) ctx.addIssue({ code: 'custom', message: invalidValue(v, why) });
  });

const strict = z.strictObject;

// ---- cluster, cni, proxy -------------------------------------------------

const NodeSchema = strict({
  name: label().describe('Node name, a DNS-1123 label.'),
  ip: ipAddress().optional().describe('Address on the node network; default: the (i+2)-th address (192.168.49.2, .3, ...).'),
  podCIDR: cidr().optional().describe(
    "This node's pod range, as when node CIDRs are assigned by hand or by a CNI's own IPAM; default: the next /24 of cluster.podCIDR outside the service CIDR, as kube-controller-manager hands them out.",
  ),
});

const ClusterSchema = strict({
  nodeNetwork: cidr().default('192.168.49.0/24').describe('The network the nodes (and the external client) share.'),
  nodes: z
    .array(NodeSchema)
    .min(1)
    .default(() => [{ name: 'node-01' }, { name: 'node-02' }, { name: 'node-03' }]),
  podCIDR: cidr().default('10.244.0.0/16').describe('Cluster pod range; each node gets the next /24 of it.'),
  serviceCIDR: cidr().default('10.96.0.0/12').describe('ClusterIP range (the apiserver\'s --service-cluster-ip-range).'),
  nodePortRange: z.string().default('30000-32767').describe('NodePort range, "base-max" (like --service-node-port-range).'),
  externalClient: strict({ ip: ipAddress().optional().describe('Default: the last host of the node network (.254).') }).default(() => ({})),
});

const CniSchema = strict({ type: oneOf(['bridge'], 'CNI type').default('bridge') });

// A partial KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), with upstream's field names.
const KubeProxyConfigSchema = strict({
  clusterCIDR: cidr().optional(),
  masqueradeAll: z.boolean().optional(),
  iptables: strict({
    masqueradeAll: z.boolean().optional(),
    masqueradeBit: z.int().min(0).max(31).optional(),
    localhostNodePorts: z.boolean().optional(),
    syncPeriod: duration().optional(),
    minSyncPeriod: duration().optional(),
  }).optional(),
  ipvs: strict({
    scheduler: oneOf(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'], 'IPVS scheduler').optional(),
    syncPeriod: duration().optional(),
    minSyncPeriod: duration().optional(),
    strictARP: z.boolean().optional(),
  }).optional(),
  nftables: strict({
    masqueradeAll: z.boolean().optional(),
    masqueradeBit: z.int().min(0).max(31).optional(),
    syncPeriod: duration().optional(),
    minSyncPeriod: duration().optional(),
  }).optional(),
  nodePortAddresses: z.array(z.string()).optional().describe('CIDRs, or "primary" for the node\'s primary IP.'),
  conntrack: strict({ tcpBeLiberal: z.boolean().optional() }).optional(),
  detectLocalMode: oneOf(['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'], 'local traffic detector').optional(),
});
export type KubeProxyConfig = z.infer<typeof KubeProxyConfigSchema>;

const ProxySchema = strict({
  mode: oneOf(PROXY_MODES, 'proxy mode').default('iptables'),
  config: KubeProxyConfigSchema.default(() => ({})),
  modes: z.array(oneOf(PROXY_MODES, 'proxy mode')).optional().describe('The modes this lab is meant to pass in (a CI matrix).'),
});

// ---- scenario ------------------------------------------------------------

/** Where a command or a connection starts: a pod (name or label selector), a node, or the external client. */
export type Target = { pod: string } | { node: string } | { external: true };
const TargetSchema = strict({
  pod: z.string().min(1).optional().describe('A pod name, or a label selector like app=client.'),
  node: z.string().min(1).optional(),
  external: z.literal(true).optional(),
}).superRefine((t, ctx) => {
  if (Object.keys(t).length !== 1) {
    ctx.addIssue({ code: 'custom', message: 'a target is exactly one of {pod: <name or app=label>}, {node: <node name>}, {external: true}' });
  }
}).meta({ id: 'Target' }) as unknown as z.ZodType<Target>;

const Expect = strict({ exitCode: z.int().optional(), stdout: z.string().optional().describe('A regular expression.') });
const HostPort = z.string().describe('"host:port": a service name, an IP, a node name, pod/NAME (that pod\'s IP), a ${variable}, or each-node / nodes-with-endpoints / nodes-without-endpoints (of `service`), then the port.');
const VarName = z.string().regex(/^[A-Za-z_]\w*$/, { error: 'must be a variable name (letters, digits and _, not starting with a digit)' });

// Fields every scenario item may carry.
const common = {
  name: z.string().optional().describe('The line printed for this item.'),
  timeout: z.number().positive().default(30).describe('Seconds; assertions retry until then.'),
  modes: z.array(oneOf(PROXY_MODES, 'proxy mode')).optional().describe('Run this item only in these proxy modes (skipped, and said so, in others).'),
};
// Kind-specific fields win over the common ones: a delete step's `name` is the object's name.
type ItemShape<K extends string, V extends string, T> = { [P in K]: z.ZodLiteral<V> } & Omit<typeof common, keyof T> & T;
const item = <K extends string, V extends string, T extends z.ZodRawShape>(key: K, value: V, shape: T) =>
  strict({ [key]: z.literal(value), ...common, ...shape } as ItemShape<K, V, T>);
const step = <S extends (typeof STEPS)[number], T extends z.ZodRawShape>(s: S, shape: T) => item('step', s, shape);
const check = <A extends (typeof ASSERTS)[number], T extends z.ZodRawShape>(a: A, shape: T) => item('assert', a, shape);
const namespace = z.string().default('default');
const ForService = { service: z.string().optional().describe('The Service whose endpoints decide backends: all and the nodes-with/without-endpoints hosts.'), namespace };

export const StepSchema = z.discriminatedUnion('step', [
  step('apply', { manifest: KubeObjectSchema.optional(), file: z.string().optional().describe('Relative to the lab file.') }),
  step('delete', { kind: oneOf(KIND_NAMES, 'kind'), name: z.string(), namespace }),
  step('scale', { deployment: z.string(), replicas: z.int().min(0), namespace }),
  step('exec', { on: TargetSchema, command: z.array(z.string()).min(1), expect: Expect.optional() }),
  step('wait', { seconds: z.number().positive() }),
  step('answer', {
    key: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'must be a file name: lowercase letters, digits, ".", "_" and "-"' }).describe('The answer file, under the lab\'s answers/ directory.'),
    value: z.string().optional().describe('The answer, ${variables} expanded.'),
    from: strict({
      on: TargetSchema,
      command: z.array(z.string()).min(1),
      match: z.string().optional().describe('A regular expression; its first group (or the whole match) is the answer. Default: the trimmed output.'),
    }).optional().describe('Find the answer as a learner would: run a command and take part of its output.'),
  }),
  step('reconfigure', {
    cluster: strict({
      podCIDR: cidr().optional(),
      serviceCIDR: cidr().optional(),
      nodePortRange: z.string().optional(),
      nodes: z.array(NodeSchema).min(1).optional().describe('The same nodes, in the same order; change their ip or podCIDR.'),
    }).optional(),
    proxy: strict({ mode: oneOf(PROXY_MODES, 'proxy mode').optional() }).optional(),
  }).describe('Rebuild the lab with changed cluster ranges or proxy mode: down, then up again (manifests re-applied; objects added by earlier steps are gone).'),
]);

export const AssertSchema = z.discriminatedUnion('assert', [
  check('service-ip', { service: z.string(), namespace, save: VarName.optional() }),
  check('proxy-rules', {
    service: z.string(),
    namespace,
    port: port(),
    endpoints: z.int().min(0).optional(),
    absent: z.boolean().optional(),
    nodePort: z.boolean().optional().describe('Also check the NodePort walk (KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC, or service-nodeports).'),
    nodes: z.array(z.string()).optional().describe('Default: every node.'),
  }),
  check('dns', { from: TargetSchema, names: z.array(z.string()).min(1), service: z.string(), namespace }),
  check('reach', {
    from: TargetSchema,
    to: HostPort,
    via: oneOf(['sql', 'http', 'tcp'], 'protocol'),
    backends: z.union([z.literal('all'), z.int().min(1)]).default('all').describe('Distinct answering pods to see.'),
    attempts: z.int().min(1).default(12),
    password: z.string().optional().describe('MariaDB password for via: sql (default: lab).'),
    answeredBy: z.string().min(1).optional().describe('Every answer must come from this pod (a name) or these pods (a label selector like app=web).'),
    ...ForService,
  }),
  check('unreachable', { from: TargetSchema, to: HostPort, expect: oneOf(['refused', 'timeout', 'any'], 'failure'), ...ForService }),
  check('exec', { on: TargetSchema, command: z.array(z.string()).min(1), expect: Expect }),
  check('source-ip', { from: TargetSchema, to: HostPort, via: z.literal('http'), expect: oneOf(['node', 'client'], 'source'), ...ForService }),
  check('object', {
    kind: oneOf(KIND_NAMES, 'kind'),
    name: z.string(),
    namespace,
    fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional()
      .describe('Field paths like spec.type or spec.ports[0].nodePort, and the value each must have.'),
  }),
  check('answer', {
    key: z.string(),
    equals: z.string().optional().describe('The expected answer, ${variables} expanded; compared trimmed (CIDRs and IPs by value).'),
    matches: z.string().optional().describe('A regular expression the answer must match.'),
    list: z.boolean().optional().describe('Compare as a set of words (commas or spaces between them, any order).'),
    save: VarName.optional(),
  }),
  check('ranges-disjoint', {}).describe('The service CIDR overlaps neither the pod CIDR nor any node\'s pod range, and no ClusterIP is a pod\'s IP.'),
]);

export const ScenarioItemSchema = z.union([StepSchema, AssertSchema]);

// ---- the lab -------------------------------------------------------------

export const LabSchema = strict({
  apiVersion: z.literal('svclab.dev/v1alpha1'),
  kind: z.literal('Lab'),
  metadata: strict({
    name: label(LAB_NAME_MAX).optional().describe("Default: the file's name without extension."),
    description: z.string().optional(),
  }).default(() => ({})),
  cluster: ClusterSchema.default(() => ClusterSchema.parse({})),
  cni: CniSchema.default(() => ({ type: 'bridge' as const })),
  proxy: ProxySchema.default(() => ProxySchema.parse({})),
  manifests: z.array(KubeObjectSchema).default(() => []),
  scenario: z.array(ScenarioItemSchema).default(() => []),
});

type Parsed = z.output<typeof LabSchema>;
/** A parsed lab, defaults filled; metadata.name is always set after loading. */
export type LabSpec = Omit<Parsed, 'metadata'> & { metadata: { name: string; description?: string } };
export type ClusterSpec = Parsed['cluster'];
export type ProxySpec = Parsed['proxy'];
export type ScenarioItem = Parsed['scenario'][number];
export type Step = z.output<typeof StepSchema>;
export type Assertion = z.output<typeof AssertSchema>;
export type StepOf<S extends Step['step']> = Extract<Step, { step: S }>;
export type AssertionOf<A extends Assertion['assert']> = Extract<Assertion, { assert: A }>;
