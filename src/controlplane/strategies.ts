// Per-kind rules the registry applies around a write (upstream's
// RESTCreateStrategy / RESTUpdateStrategy): defaulting, status handling,
// validation with upstream's texts, and how a delete proceeds.
import type { Deployment as ApiDeployment, Pod as ApiPod, PodSpec as ApiPodSpec, Service } from '../k8s/objects.ts';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { dns1035LabelError, dns1123LabelError, dns1123SubdomainError } from '../k8s/names.ts';
import { field, type FieldError, type GoValue } from './status.ts';
import { labelSelectorMatcher } from './selectors.ts';
import type { KObj, Mutable } from './store.ts';
import type { ServiceStrategy, Txn } from './service-strategy.ts';

type Deployment = Mutable<ApiDeployment>;
type Pod = Mutable<ApiPod>;
type PodSpec = Mutable<ApiPodSpec>;
const svc = (o: KObj) => o as unknown as Mutable<Service>;

export interface Strategy {
  /** The name rule for metadata.name (upstream's ValidateNameFunc). */
  nameError(name: string): string | undefined;
  prepareForCreate?(obj: KObj): void;
  validate?(obj: KObj): FieldError[];
  /** Allocation before validation (upstream's BeginCreate hook). */
  beginCreate?(obj: KObj): Txn;
  prepareForUpdate?(obj: KObj, old: KObj): void;
  validateUpdate?(obj: KObj, old: KObj): FieldError[];
  beginUpdate?(obj: KObj, old: KObj): Txn;
  /** Releases what the object held once it is gone. */
  afterDelete?(obj: KObj): void;
  /** Graceful deletion: seconds to wait before the object goes (0 = now). */
  gracePeriod?(obj: KObj, requested: number | undefined): number;
}

const subdomainName = { nameError: dns1123SubdomainError };

/** Go's %#v of a map[string]string: keys sorted, no spaces. */
function goStringMap(m: Record<string, string> | undefined): GoValue {
  const body = Object.keys(m ?? {}).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(m![k])}`).join(', ');
  return { goText: `map[string]string{${body}}` };
}

function goLabelSelector(s: LabelSelector | undefined): GoValue {
  const ml = s?.matchLabels ? (goStringMap(s.matchLabels) as { goText: string }).goText : 'map[string]string(nil)';
  const me = s?.matchExpressions?.length
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions.map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:${e.values ? `[]string{${e.values.map((v) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'}}`).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return { goText: `&v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}` };
}

// ---- Pods ----

/** SetDefaults_PodSpec and friends: the fields a pod always has once stored. */
export function setPodSpecDefaults(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const latest = !c.image?.includes(':') || c.image.endsWith(':latest');
    c.imagePullPolicy ??= latest ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  }
}

export function validatePodSpec(spec: PodSpec | undefined, at: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers = spec?.containers ?? [];
  if (!containers.length) errs.push(field.required(`${at}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${at}.containers[${i}]`;
    if (!c.name) errs.push(field.required(`${p}.name`));
    else {
      const e = dns1123LabelError(c.name);
      if (e) errs.push(field.invalid(`${p}.name`, c.name, e));
      if (names.has(c.name)) errs.push(field.duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    if (!c.image) errs.push(field.required(`${p}.image`));
    (c.ports ?? []).forEach((cp, j) => {
      if (!Number.isInteger(cp.containerPort) || cp.containerPort < 1 || cp.containerPort > 65535) {
        errs.push(field.invalid(`${p}.ports[${j}].containerPort`, cp.containerPort ?? 0, 'must be between 1 and 65535, inclusive'));
      }
    });
  });
  return errs;
}

const POD_SPEC_UPDATE_MSG =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const podStrategy: Strategy = {
  ...subdomainName,
  prepareForCreate(o) {
    const pod = o as Pod;
    setPodSpecDefaults((pod.spec ??= { containers: [] }));
    pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  validate: (o) => validatePodSpec((o as Pod).spec, 'spec'),
  prepareForUpdate(o, old) {
    o.status = old.status;
    setPodSpecDefaults((o.spec ??= { containers: [] }));
  },
  validateUpdate(o, old) {
    // Only images and a few scheduling fields may change on a running pod.
    const norm = (s: PodSpec) => JSON.stringify({
      ...s,
      containers: s.containers?.map((c) => ({ ...c, image: '' })),
      initContainers: s.initContainers?.map((c) => ({ ...c, image: '' })),
      activeDeadlineSeconds: undefined,
      tolerations: undefined,
    });
    if (norm(o.spec) !== norm(old.spec)) return [field.forbidden('spec', POD_SPEC_UPDATE_MSG)];
    return validatePodSpec(o.spec, 'spec');
  },
  gracePeriod(o, requested) {
    const pod = o as Pod;
    // Upstream deletes unscheduled and finished pods at once: no kubelet has to stop anything.
    if (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
    return Math.max(0, requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
  },
};

// ---- Deployments ----

export function setDeploymentDefaults(d: Deployment): void {
  const spec = (d.spec ??= { selector: {}, template: {} });
  spec.replicas ??= 1;
  spec.strategy ??= { type: 'RollingUpdate' };
  if (spec.strategy.type === 'RollingUpdate') spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...spec.strategy.rollingUpdate };
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.template ??= {};
  setPodSpecDefaults((spec.template.spec ??= { containers: [] }));
  spec.template.spec.restartPolicy ??= 'Always';
}

function validateDeployment(d: Deployment): FieldError[] {
  const errs: FieldError[] = [];
  const spec = d.spec;
  if (!spec?.selector || (!Object.keys(spec.selector.matchLabels ?? {}).length && !spec.selector.matchExpressions?.length)) {
    errs.push(field.required('spec.selector'));
  } else if (!labelSelectorMatcher(spec.selector)(spec.template?.metadata?.labels)) {
    errs.push(field.invalid('spec.template.metadata.labels', goStringMap(spec.template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  if ((spec?.replicas ?? 0) < 0) errs.push(field.invalid('spec.replicas', spec!.replicas!, 'must be greater than or equal to 0'));
  const st = spec?.strategy?.type;
  if (st && st !== 'RollingUpdate' && st !== 'Recreate') errs.push(field.notSupported('spec.strategy.type', st, ['Recreate', 'RollingUpdate']));
  if (spec?.template?.spec?.restartPolicy && spec.template.spec.restartPolicy !== 'Always') {
    errs.push(field.notSupported('spec.template.spec.restartPolicy', spec.template.spec.restartPolicy, ['Always']));
  }
  errs.push(...validatePodSpec(spec?.template?.spec, 'spec.template.spec'));
  return errs;
}

const deploymentStrategy: Strategy = {
  ...subdomainName,
  prepareForCreate(o) {
    setDeploymentDefaults(o as Deployment);
    o.status = {};
  },
  validate: (o) => validateDeployment(o as Deployment),
  prepareForUpdate(o, old) {
    setDeploymentDefaults(o as Deployment);
    o.status = old.status;
  },
  validateUpdate(o, old) {
    const errs: FieldError[] = [];
    if (JSON.stringify(o.spec?.selector) !== JSON.stringify(old.spec?.selector)) {
      errs.push(field.invalid('spec.selector', goLabelSelector(o.spec?.selector), 'field is immutable'));
    }
    return [...errs, ...validateDeployment(o as Deployment)];
  },
};

// ---- the rest ----

const namespaceStrategy: Strategy = {
  nameError: (n) => dns1123LabelError(n),
  prepareForCreate(o) {
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name! };
  },
  prepareForUpdate(o, old) {
    o.spec = old.spec;
    o.status = old.status;
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name! };
  },
};

const keepStatus: Strategy = {
  ...subdomainName,
  prepareForUpdate(o, old) {
    if (old.status !== undefined) o.status = old.status;
  },
};

const endpointSliceStrategy: Strategy = {
  ...subdomainName,
  validate(o) {
    const s = o as unknown as EndpointSlice;
    const errs: FieldError[] = [];
    if (!s.addressType) errs.push(field.required('addressType'));
    else if (!['FQDN', 'IPv4', 'IPv6'].includes(s.addressType)) errs.push(field.notSupported('addressType', s.addressType, ['FQDN', 'IPv4', 'IPv6']));
    (s.endpoints ?? []).forEach((e, i) => {
      if (!e.addresses?.length) errs.push(field.required(`endpoints[${i}].addresses`));
    });
    return errs;
  },
};

export function makeStrategies(services: ServiceStrategy): Record<string, Strategy> {
  return {
    Service: {
      nameError: dns1035LabelError,
      prepareForCreate: (o) => services.prepareForCreate(svc(o)),
      beginCreate: (o) => services.beginCreate(svc(o)),
      validate: (o) => services.validate(svc(o)),
      prepareForUpdate: (o, old) => {
        o.status = old.status;
        services.prepareForUpdate(svc(o), svc(old));
      },
      beginUpdate: (o, old) => services.beginUpdate(svc(o), svc(old)),
      validateUpdate: (o, old) => services.validateUpdate(svc(o), svc(old)),
      afterDelete: (o) => services.release(svc(o)),
    },
    Pod: podStrategy,
    Deployment: deploymentStrategy,
    Namespace: namespaceStrategy,
    Node: keepStatus,
    ServiceCIDR: keepStatus,
    EndpointSlice: endpointSliceStrategy,
    Endpoints: subdomainName,
  };
}
