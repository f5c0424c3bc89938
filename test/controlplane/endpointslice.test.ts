import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planSlices, MAX_ENDPOINTS_PER_SLICE } from '../../src/controlplane/controllers/endpointslice.ts';
import { desiredEndpointGroups } from '../../src/controlplane/controllers/endpoint-set.ts';
import { renderHostsFile } from '../../src/controlplane/dns-records.ts';
import type { K8sNode, Pod, Service } from '../../src/k8s/objects.ts';

const NOW = '2025-01-01T00:00:00Z';

function service(extra: Record<string, unknown> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.5.5', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
  } as Service;
}

function pod(i: number, opts: { ready?: boolean; port?: number; deleting?: boolean; ip?: string; node?: string } = {}): Pod {
  return {
    metadata: { name: `web-${String(i).padStart(3, '0')}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: NOW } : {}) },
    spec: { nodeName: opts.node ?? 'node-01', containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
    status: { phase: 'Running', podIP: opts.ip ?? `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as Pod;
}

const nodes: K8sNode[] = [{ metadata: { name: 'node-01', labels: { 'topology.kubernetes.io/zone': 'z1' } } } as K8sNode];

test('endpoints: named targetPort resolves per pod; pods with different ports go to different groups', () => {
  const groups = desiredEndpointGroups(service(), [pod(1), pod(2, { port: 9090 }), pod(3)], nodes);
  assert.is(groups.length, 2);
  assert.equal(groups.map((g) => [g.ports[0].port, g.endpoints.length]), [[8080, 2], [9090, 1]]);
  assert.is(groups[0].endpoints[0].zone, 'z1');
});

test('endpoint conditions follow readiness and deletion', () => {
  const [g] = desiredEndpointGroups(service(), [pod(1), pod(2, { ready: false }), pod(3, { deleting: true })], nodes);
  assert.equal(g.endpoints.map((e) => e.conditions), [
    { ready: true, serving: true, terminating: false },
    { ready: false, serving: false, terminating: false },
    { ready: false, serving: true, terminating: true },
  ]);
  const [p] = desiredEndpointGroups(service({ publishNotReadyAddresses: true }), [pod(2, { ready: false })], nodes);
  assert.equal(p.endpoints[0].conditions, { ready: true, serving: true, terminating: false });
});

test('a new service gets slices of at most 100 endpoints, labelled and owned like upstream', () => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(i));
  const plan = planSlices(service(), [], pods, nodes, NOW);
  assert.equal(plan.create.map((s) => s.endpoints.length), [100, 100, 50]);
  const s = plan.create[0];
  assert.equal(s.metadata!.labels, {
    team: 'a',
    'kubernetes.io/service-name': 'web',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  });
  assert.is(s.metadata!.generateName, 'web-');
  assert.equal(s.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.is(MAX_ENDPOINTS_PER_SLICE, 100);
});

test('endpoints stay where they are; new ones fill free room before a new slice is made', () => {
  const first = planSlices(service(), [], Array.from({ length: 150 }, (_, i) => pod(i)), nodes, NOW);
  const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-s${i}` } }));
  // Pod 0 leaves slice 0 and 30 pods arrive: slice 0 (changing anyway) is topped up first, the rest go to slice 1.
  const pods = [...Array.from({ length: 150 }, (_, i) => pod(i)).slice(1), ...Array.from({ length: 30 }, (_, i) => pod(200 + i))];
  const plan = planSlices(service(), existing, pods, nodes, NOW);
  assert.is(plan.create.length, 0);
  assert.is(plan.delete.length, 0);
  const counts = Object.fromEntries(plan.update.map((s) => [s.metadata!.name, s.endpoints.length]));
  assert.equal(counts, { 'web-s0': 100, 'web-s1': 79 });
  const s1 = plan.update.find((s) => s.metadata!.name === 'web-s1')!;
  assert.equal(s1.endpoints.slice(0, 50).map((e) => e.targetRef!.name), existing[1].endpoints.map((e) => e.targetRef!.name), 'old endpoints keep their place');
});

test('no endpoints: one empty placeholder slice, kept as is on the next sync', () => {
  const plan = planSlices(service(), [], [], nodes, NOW);
  assert.is(plan.create.length, 1);
  assert.equal(plan.create[0].endpoints, []);
  assert.equal(plan.create[0].ports, []);
  const placeholder = { ...plan.create[0], metadata: { ...plan.create[0].metadata, name: 'web-p' } };
  const again = planSlices(service(), [placeholder], [], nodes, NOW);
  assert.equal(again, { create: [], update: [], delete: [] });
  // Pods arrive: the placeholder goes, a real slice comes.
  const filled = planSlices(service(), [placeholder], [pod(1)], nodes, NOW);
  assert.is(filled.delete[0].metadata!.name, 'web-p');
  assert.is(filled.create[0].endpoints.length, 1);
});

test('an unchanged service and pods produce no writes', () => {
  const first = planSlices(service(), [], [pod(1), pod(2)], nodes, NOW);
  const existing = first.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: 'web-x' } }));
  assert.equal(planSlices(service(), existing, [pod(1), pod(2)], nodes, '2030-01-01T00:00:00Z'), { create: [], update: [], delete: [] });
});

test('DNS hosts file: a line per ClusterIP service, ready endpoints for headless ones', () => {
  const svcs = [
    service(),
    { metadata: { name: 'db', namespace: 'data' }, spec: { clusterIP: 'None', selector: { app: 'db' } } },
    { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
  ] as Service[];
  const slices = [{
    metadata: { namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.4'], conditions: { ready: true }, hostname: 'db-0' },
      { addresses: ['10.244.2.9'], conditions: { ready: false } },
      { addresses: ['10.244.0.3'] },
    ],
  }];
  assert.is(
    renderHostsFile(svcs, slices as never),
    '# Cluster DNS records, written by the svclab control plane on every Service change.\n' +
      '10.244.0.3 db.data.svc.cluster.local\n' +
      '10.244.1.4 db-0.db.data.svc.cluster.local\n' +
      '10.244.1.4 db.data.svc.cluster.local\n' +
      '10.96.5.5 web.default.svc.cluster.local\n',
  );
});

test.run();
