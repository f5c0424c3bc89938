// kubectl apply's decision, pure: created / configured / unchanged from the
// three-way patch between the last applied configuration, the file and the
// live object (kubectl's CreateThreeWayMergePatch, for the lists a lab has).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAST_APPLIED, lastAppliedConfiguration, namespaceFor, planApply, threeWayPatch } from '../../../src/cli/kubectl/apply.ts';
import type { Deployment, KubeObject, Service } from '../../../src/k8s/objects.ts';

const svc = (over: Partial<Service['spec']> = {}, labels?: Record<string, string>): Service => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: 'default', ...(labels ? { labels } : {}) },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], ...over },
});

/** What the apiserver would hold after creating `obj` with apply: defaults and allocations added. */
function live(obj: KubeObject, extra: Partial<Service['spec']> = {}): Service {
  const s = structuredClone(obj) as Service;
  s.metadata = { ...s.metadata, uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', annotations: { ...s.metadata?.annotations, [LAST_APPLIED]: lastAppliedConfiguration(obj) } };
  s.spec = { ...s.spec, type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster', ...extra };
  s.spec.ports = s.spec.ports!.map((p) => ({ protocol: 'TCP', ...p }));
  (s as { status?: unknown }).status = { loadBalancer: {} };
  return s;
}

test('no live object: created, with the configuration recorded in the annotation', () => {
  const plan = planApply(svc(), undefined);
  assert.is(plan.operation, 'created');
  const recorded = (plan.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[LAST_APPLIED];
  assert.equal(JSON.parse(recorded), { apiVersion: 'v1', kind: 'Service', metadata: { annotations: {}, name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } } });
  // Keys sorted, one line, newline-terminated, like kubectl's.
  assert.is(recorded, '{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"targetPort":8080}],"selector":{"app":"web"}}}\n');
});

test('same file again: unchanged, whatever the server defaulted or allocated', () => {
  assert.equal(planApply(svc(), live(svc())), { operation: 'unchanged', warning: undefined });
});

test('a changed field is configured with a patch carrying only the change and the new annotation', () => {
  const next = svc({ ports: [{ port: 80, targetPort: 9090 }] });
  const plan = planApply(next, live(svc()));
  assert.is(plan.operation, 'configured');
  const body = plan.body as { spec: unknown; metadata: { annotations: Record<string, string> } };
  // Service ports merge by "port": the item patch names its key and the changed field only.
  assert.equal(body.spec, { ports: [{ port: 80, targetPort: 9090 }] });
  assert.equal(Object.keys(body.metadata.annotations), [LAST_APPLIED]);
});

test('a field removed from the file since the last apply is deleted; fields others set are kept', () => {
  const before = svc({ sessionAffinity: 'ClientIP' }, { app: 'web', tier: 'front' });
  const current = live(before, { sessionAffinity: 'ClientIP' });
  current.metadata!.labels = { ...current.metadata!.labels, 'added-by-someone': 'yes' };
  const after = svc({}, { app: 'web' });
  const patch = planApply(after, current).body as { spec: Record<string, unknown>; metadata: { labels: Record<string, unknown> } };
  assert.equal(patch.spec, { sessionAffinity: null });
  assert.equal(patch.metadata.labels, { tier: null });
});

test('a port dropped from the file becomes a $patch: delete item; a new one is added whole', () => {
  const before = svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100 }] });
  const after = svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }] });
  const patch = threeWayPatch(JSON.parse(lastAppliedConfiguration(before)), after as never, live(before) as never);
  assert.equal((patch.spec as { ports: unknown[] }).ports, [{ name: 'https', port: 443, targetPort: 8443 }, { port: 9100, $patch: 'delete' }]);
});

test('containers merge by name; atomic lists (command) are replaced whole', () => {
  const d = (image: string, command: string[]): Deployment => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image, command }] } } },
  });
  const original = JSON.parse(lastAppliedConfiguration(d('nginx', ['nginx', '-g'])));
  const current = structuredClone(d('nginx', ['nginx', '-g'])) as Deployment;
  current.spec!.template.spec!.containers[0].imagePullPolicy = 'Always';
  const patch = threeWayPatch(original, d('nginx:1.27', ['nginx']) as never, current as never);
  assert.equal(patch, { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27', command: ['nginx'] }] } } } });
});

test('an object made without apply gets kubectl\'s warning and is configured (the annotation is patched in)', () => {
  const current = live(svc());
  delete current.metadata!.annotations;
  const plan = planApply(svc(), current);
  assert.is(plan.operation, 'configured');
  assert.is(plan.warning, 'Warning: resource services/web is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.');
  assert.equal(Object.keys(plan.body!), ['metadata']);
});

test('status in a manifest is not applied (the apiserver ignores it on the main resource)', () => {
  const withStatus = { ...svc(), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } } as Service;
  assert.is(planApply(withStatus, live(svc())).operation, 'unchanged');
});

test('namespace: the object\'s own, else -n; a contradiction with an explicit -n is kubectl\'s error', () => {
  const s = svc();
  delete s.metadata!.namespace;
  assert.is(namespaceFor(s, 'lab', true), 'lab');
  assert.is(namespaceFor(svc(), 'default', false), 'default');
  assert.throws(() => namespaceFor(svc(), 'other', true), /the namespace from the provided object "default" does not match the namespace "other". You must pass '--namespace=default' to perform this operation./);
  assert.is(namespaceFor({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, 'lab', true), undefined);
});

test.run();
