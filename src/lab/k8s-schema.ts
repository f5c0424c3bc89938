// Schemas for the Kubernetes objects a lab may hold or `svclab apply -f` may
// read: the fields svclab acts on are typed and checked with the apiserver's
// rules and words; everything else a pasted manifest carries passes through.
import { z } from 'zod';
import type { KubeObject } from '../k8s/objects.ts';
import { ipFamily } from '../util/cidr.ts';
import { cidr, oneOf, port, stringMap } from './fields.ts';
import { KNOWN_IMAGES, resolveImage } from './images.ts';
import { dns1035LabelError, dns1123LabelError, dns1123SubdomainError, invalidValue } from '../k8s/names.ts';
import { isEmptySelector, selectorMatches } from './selector.ts';

/** apiVersion/kind pairs svclab understands, in the order messages list them. */
export const SUPPORTED_KINDS = [
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR' },
] as const;
export type SupportedKind = (typeof SUPPORTED_KINDS)[number]['kind'];
export const KIND_NAMES = SUPPORTED_KINDS.map((k) => k.kind) as unknown as readonly [SupportedKind, ...SupportedKind[]];
const SUPPORTED_TEXT = SUPPORTED_KINDS.map((k) => `${k.apiVersion} ${k.kind}`).join(', ');

type NameRule = (v: string) => string | undefined;

const named = (rule: NameRule) =>
  z.string().superRefine((v, ctx) => {
    const why = rule(v);
    if (why) ctx.addIssue({ code: 'custom', message: invalidValue(v, why) });
  });

const metadata = (rule: NameRule) =>
  z.looseObject({
    name: named(rule),
    namespace: named(dns1123LabelError).optional(),
    labels: stringMap().optional(),
    annotations: stringMap().optional(),
  });

const header = <K extends SupportedKind>(kind: K) => {
  const apiVersion = SUPPORTED_KINDS.find((k) => k.kind === kind)!.apiVersion;
  return {
    apiVersion: z.literal(apiVersion, {
      error: (iss) => (iss.input === undefined ? undefined : `${kind} is served by apiVersion "${apiVersion}", not ${JSON.stringify(iss.input)}`),
    }),
    kind: z.literal(kind),
  };
};

const protocol = () => oneOf(['TCP', 'UDP', 'SCTP'], 'protocol');

const container = z.looseObject({
  name: named(dns1123LabelError),
  image: z.string().refine((v) => resolveImage(v) !== undefined, {
    error: (iss) => `unknown image ${JSON.stringify(iss.input)}; svclab runs a local program for these images: ${KNOWN_IMAGES.join(', ')}`,
  }),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(z.looseObject({ containerPort: port(), name: z.string().optional(), protocol: protocol().optional() })).optional(),
  env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
});

const podSpec = z.looseObject({
  containers: z.array(container).min(1),
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  restartPolicy: oneOf(['Always', 'OnFailure', 'Never'], 'restart policy').optional(),
}).meta({ id: 'PodSpec' }); // ids name the JSON Schema's $defs, so shared parts appear once

const labelSelector = z.looseObject({
  matchLabels: stringMap().optional(),
  matchExpressions: z
    .array(z.looseObject({ key: z.string(), operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], 'operator'), values: z.array(z.string()).optional() }))
    .optional(),
});

const deployment = z
  .looseObject({
    ...header('Deployment'),
    metadata: metadata(dns1123SubdomainError),
    spec: z.looseObject({
      replicas: z.int().min(0).optional(),
      selector: labelSelector,
      template: z.looseObject({ metadata: z.looseObject({ labels: stringMap().optional() }), spec: podSpec }),
    }),
  })
  .superRefine((d, ctx) => {
    // Upstream apps validation: an empty selector, or one that does not select
    // the pods the Deployment would create, is refused.
    const { selector, template } = d.spec;
    if (isEmptySelector(selector)) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'selector'], message: 'empty selector is invalid for deployment' });
    } else if (!selectorMatches(selector, template.metadata.labels)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'template', 'metadata', 'labels'],
        message: invalidValue(template.metadata.labels ?? {}, '`selector` does not match template `labels`'),
      });
    }
  });

const pod = z.looseObject({ ...header('Pod'), metadata: metadata(dns1123SubdomainError), spec: podSpec });

const namespace = z.looseObject({ ...header('Namespace'), metadata: metadata(dns1123LabelError) });

const servicePort = z.looseObject({
  name: named(dns1123LabelError).optional(),
  port: port(),
  targetPort: z.union([port(), z.string().min(1)]).optional(),
  protocol: protocol().optional(),
  nodePort: port().optional(),
  appProtocol: z.string().optional(),
});

const service = z
  .looseObject({
    ...header('Service'),
    metadata: metadata(dns1035LabelError),
    spec: z.looseObject({
      type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], 'service type').optional(),
      selector: stringMap().optional(),
      ports: z.array(servicePort).optional(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).optional(),
      externalIPs: z.array(z.string()).optional(),
      sessionAffinity: oneOf(['None', 'ClientIP'], 'session affinity').optional(),
      externalTrafficPolicy: oneOf(['Cluster', 'Local'], 'traffic policy').optional(),
      internalTrafficPolicy: oneOf(['Cluster', 'Local'], 'traffic policy').optional(),
      loadBalancerSourceRanges: z.array(cidr()).optional(),
      externalName: z.string().optional(),
    }),
  })
  .superRefine((s, ctx) => checkService(s.spec, ctx));

// The apiserver's Service rules that a lab most often trips over, with its words.
function checkService(spec: z.infer<typeof service>['spec'], ctx: z.RefinementCtx) {
  const type = spec.type ?? 'ClusterIP';
  const ports = spec.ports ?? [];
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['spec', ...path], message });
  if (type !== 'ExternalName' && spec.clusterIP !== 'None' && ports.length === 0) issue(['ports'], 'Required value');
  for (const [field, ip] of [['clusterIP', spec.clusterIP], ...(spec.externalIPs ?? []).map((ip, i) => [`externalIPs[${i}]`, ip])]) {
    if (ip && ip !== 'None' && ipFamily(ip) === 0) issue([field!], invalidValue(ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    if (ports.length > 1 && !p.name) issue(['ports', i, 'name'], 'Required value (a Service with several ports must name each one)');
    if (p.name && names.has(p.name)) issue(['ports', i, 'name'], `Duplicate value: ${JSON.stringify(p.name)}`);
    if (p.name) names.add(p.name);
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seen.has(key)) issue(['ports', i], `Duplicate value: port ${p.port} protocol ${p.protocol ?? 'TCP'}`);
    seen.add(key);
    if (p.nodePort !== undefined && type === 'ClusterIP') issue(['ports', i, 'nodePort'], "Forbidden: may not be used when `type` is 'ClusterIP'");
  });
  if (spec.externalTrafficPolicy && type !== 'NodePort' && type !== 'LoadBalancer') {
    issue(['externalTrafficPolicy'], invalidValue(spec.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
  }
}

const endpointSlice = z
  .looseObject({
    ...header('EndpointSlice'),
    metadata: metadata(dns1123SubdomainError),
    addressType: oneOf(['IPv4', 'IPv6', 'FQDN'], 'address type'),
    endpoints: z.array(
      z.looseObject({
        addresses: z.array(z.string()).min(1).max(100),
        conditions: z.looseObject({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }).optional(),
        nodeName: z.string().optional(),
        zone: z.string().optional(),
      }),
    ),
    ports: z.array(z.looseObject({ name: z.string().optional(), port: port().optional(), protocol: protocol().optional() })).optional(),
  })
  .superRefine((s, ctx) => {
    const family = s.addressType === 'IPv4' ? 4 : s.addressType === 'IPv6' ? 6 : 0;
    if (!family) return;
    s.endpoints.forEach((ep, i) =>
      ep.addresses.forEach((a, j) => {
        if (ipFamily(a) !== family) {
          ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message: invalidValue(a, `must be a valid ${s.addressType} address`) });
        }
      }),
    );
  });

const serviceCIDR = z.looseObject({
  ...header('ServiceCIDR'),
  metadata: metadata(dns1123SubdomainError),
  spec: z.looseObject({ cidrs: z.array(cidr()).min(1).max(2) }),
});

/** Any supported object, chosen by `kind`; the TS type is the shared object model's. */
export const KubeObjectSchema = z.discriminatedUnion('kind', [service, pod, namespace, deployment, endpointSlice, serviceCIDR], {
  error: (iss) => {
    const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
    if (iss.code !== 'invalid_union' || kind === undefined) return undefined;
    return `unsupported kind ${JSON.stringify(kind)}; svclab understands: ${SUPPORTED_TEXT}`;
  },
}).meta({ id: 'KubeObject', description: 'A Kubernetes object svclab understands.' }) as unknown as z.ZodType<KubeObject>;
