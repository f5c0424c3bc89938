// What FROM and TO of `svclab trace` name, resolved against a lab's objects
// (a stand-in for the lab API with a db and a web Service, pods, three nodes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabLayout } from '../../src/lab/load.ts';
import type { LabApi } from '../../src/lifecycle/lab-api.ts';
import { defaultVia, parseFrom, resolveDestination } from '../../src/trace/target.ts';

const layout = {
  nodes: [
    { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
    { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
    { name: 'node-03', ip: '192.168.49.4', podCIDR: '10.244.2.0/24' },
  ],
} as unknown as LabLayout;

const services = [
  { metadata: { name: 'db-service', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.45.7', ports: [{ port: 3306, targetPort: 3306, protocol: 'TCP' }] } },
  { metadata: { name: 'web-service', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.8.80', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 80, nodePort: 30007, protocol: 'TCP' }, { name: 'metrics', port: 9000, protocol: 'TCP' }] } },
  { metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] } },
];
const pods = [{ metadata: { name: 'db-0', namespace: 'default' }, status: { podIP: '10.244.1.3' } }];

const api = {
  async list(kind: string) {
    return kind === 'Service' ? services : pods;
  },
  async findPods(name: string) {
    return pods.filter((p) => p.metadata.name === name).map((p) => ({ name: p.metadata.name, ip: p.status.podIP }));
  },
} as unknown as LabApi;

test('FROM: external, a node name, else a pod (name or selector)', () => {
  assert.equal(parseFrom('external', layout), { external: true });
  assert.equal(parseFrom('node-02', layout), { node: 'node-02' });
  assert.equal(parseFrom('app=client', layout), { pod: 'app=client' });
});

test('TO a service name: its ClusterIP and its only port; several ports need one named', async () => {
  const d = await resolveDestination(api, layout, 'db-service');
  assert.equal([d.kind, d.host, d.port, d.service?.name, d.service?.targetPort], ['service', '10.96.45.7', 3306, 'db-service', 3306]);
  const w = await resolveDestination(api, layout, 'web-service:http');
  assert.equal([w.host, w.port, w.service?.nodePort, w.service?.externalTrafficPolicy], ['10.96.8.80', 80, 30007, 'Local']);
  try {
    await resolveDestination(api, layout, 'web-service');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /has 2 ports \(80 \(http\), 9000 \(metrics\)\): say which/);
  }
  const dns = await resolveDestination(api, layout, 'kube-dns.kube-system:dns-tcp');
  assert.equal([dns.port, dns.protocol], [53, 'TCP']);
});

test('TO a ClusterIP:port finds its Service; a NodePort by node name or address finds the Service behind it', async () => {
  const c = await resolveDestination(api, layout, '10.96.45.7:3306');
  assert.equal([c.kind, c.service?.name], ['cluster-ip', 'db-service']);
  for (const text of ['node-02:30007', '192.168.49.3:30007']) {
    const n = await resolveDestination(api, layout, text);
    assert.equal([n.kind, n.host, n.port, n.node, n.service?.name], ['node-port', '192.168.49.3', 30007, 'node-02', 'web-service']);
  }
});

test('TO a pod: by name or by address, no Service', async () => {
  const byName = await resolveDestination(api, layout, 'db-0:3306');
  assert.equal([byName.kind, byName.host, byName.pod, byName.service], ['pod', '10.244.1.3', 'db-0', undefined]);
  const byIP = await resolveDestination(api, layout, '10.244.1.3:3306');
  assert.equal([byIP.kind, byIP.pod], ['pod', 'db-0']);
});

test('TO something unknown names what there is', async () => {
  try {
    await resolveDestination(api, layout, 'nope:80');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /"nope" is no Service, pod or node of this lab/);
    assert.match((e as { hint?: string }).hint ?? '', /services: db-service, web-service, kube-dns/);
  }
});

test('the client by default: SQL for MySQL\'s port, HTTP for web ports, else a TCP connect', async () => {
  assert.is(defaultVia(await resolveDestination(api, layout, 'db-service')), 'sql');
  assert.is(defaultVia(await resolveDestination(api, layout, 'node-01:30007')), 'http');
  assert.is(defaultVia(await resolveDestination(api, layout, 'kube-dns.kube-system:dns-tcp')), 'tcp');
});

test.run();
