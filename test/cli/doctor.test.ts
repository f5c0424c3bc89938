// `svclab doctor` on lab files (no lab up) and its checks of a running lab's
// state, fed as plain objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterFindings, networkFindings, type ClusterState } from '../../src/cli/doctor/findings.ts';
import { checkLabFile } from '../../src/cli/doctor/gather.ts';
import type { EndpointSlice, Pod, Service } from '../../src/k8s/objects.ts';

let dir: string;
// No lab record can match: doctor must judge the files alone.
process.env.SVCLAB_STATE_ROOT = join(tmpdir(), 'svclab-doctor-no-state');

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svclab-doctor-'));
});
test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const lab = async (name: string, cluster: string, rest = '') => {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `apiVersion: svclab.dev/v1alpha1\nkind: Lab\nmetadata: { name: ${name} }\ncluster:\n${cluster}\n${rest}`);
  return file;
};

test('the shipped ClusterIP lab is clean', async () => {
  const r = await checkLabFile('labs/clusterip-db.yaml');
  assert.is(r.name, 'clusterip-db');
  assert.equal(r.findings, []);
  assert.equal(r.plan, { nodeNetwork: '192.168.49.0/24', podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodes: [{ name: 'node-01', ip: '192.168.49.2' }, { name: 'node-02', ip: '192.168.49.3' }, { name: 'node-03', ip: '192.168.49.4' }] });
});

test('pod CIDR over the service CIDR: both ranges, the span, why, what upstream does, the node slices', async () => {
  const file = await lab('overlap', '  podCIDR: 10.0.0.0/8\n  serviceCIDR: 10.96.0.0/12');
  const r = await checkLabFile(file);
  assert.equal(r.findings.map((f) => f.check), ['pod-service-overlap']);
  const f = r.findings[0];
  assert.is(f.severity, 'error');
  assert.is(f.title, 'pod CIDR 10.0.0.0/8 overlaps service CIDR 10.96.0.0/12 on 10.96.0.0/12 (10.96.0.0 – 10.111.255.255)');
  assert.equal(f.data, { podCIDR: '10.0.0.0/8', serviceCIDR: '10.96.0.0/12', overlap: '10.96.0.0/12' });
  const text = f.details.join('\n');
  assert.match(text, /DNAT/);
  assert.match(text, /nothing rejects it/);
  assert.match(text, /filterOutServiceRange/);
  // Slices as kube-controller-manager would carve them: the first /24s outside the service range.
  assert.match(text, /10\.0\.0\.0\/24, 10\.0\.1\.0\/24, 10\.0\.2\.0\/24/);
});

test('a pod CIDR inside the service CIDR: the span is the pod CIDR, nodes get slices around the overlap', () => {
  const f = networkFindings({ nodeNetwork: '192.168.49.0/24', podCIDR: '10.96.0.0/16', serviceCIDR: '10.96.0.0/12', nodes: [{ name: 'a' }] });
  // Every slice of 10.96.0.0/16 lies in the service range: no node could get one.
  assert.is(f[0].title, 'pod CIDR 10.96.0.0/16 overlaps service CIDR 10.96.0.0/12 on 10.96.0.0/16 (10.96.0.0 – 10.96.255.255)');
});

test('node network over the service CIDR: one finding, not also the loader\'s refusal', async () => {
  const file = await lab('nodes', '  nodeNetwork: 10.96.0.0/24');
  const r = await checkLabFile(file);
  assert.equal(r.findings.map((f) => [f.check, f.severity]), [['node-service-overlap', 'error']]);
  assert.match(r.findings[0].title, /^node network 10\.96\.0\.0\/24 overlaps the service CIDR 10\.96\.0\.0\/12 on 10\.96\.0\.0\/24/);
  assert.match(r.findings[0].details.join(' '), /node-01 10\.96\.0\.2/);
});

test('the loader\'s other warnings and errors become findings too', async () => {
  const warned = await checkLabFile('test/lab/fixtures/warnings.yaml');
  assert.equal(warned.findings.map((f) => f.check), ['pod-service-overlap', 'lab-warning', 'lab-warning']);
  assert.match(warned.findings[1].title, /warnings\.yaml:\d+ .*web/);
  const broken = await lab('broken', '  podCIDR: 10.244.0.0/16', 'manifests:\n  - apiVersion: v1\n    kind: Service\n    metadata: { name: Bad_Name }\n    spec: { ports: [{ port: 80 }] }\n');
  const r = await checkLabFile(broken);
  assert.equal(r.findings.map((f) => f.check), ['lab-file']);
  assert.match(r.findings[0].title, /broken\.yaml:\d+ .*Bad_Name/);
  const notYaml = join(dir, 'bad.yaml');
  await writeFile(notYaml, 'cluster: [1, 2\n');
  assert.equal((await checkLabFile(notYaml)).findings.map((f) => f.check), ['lab-file']);
});

const pod = (name: string, labels: Record<string, string>, ip: string, ready: boolean, extra: Partial<Pod['status']> = {}): Pod => ({
  metadata: { name, namespace: 'default', labels },
  spec: { nodeName: 'node-02', containers: [{ name: 'c', image: 'nginx' }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
});
const service = (name: string, selector: Record<string, string> | undefined, clusterIP: string): Service => ({
  metadata: { name, namespace: 'default' },
  spec: { selector, clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, protocol: 'TCP' }] },
});
const slice = (svc: string, ips: string[]): EndpointSlice => ({
  metadata: { name: `${svc}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

const state = (over: Partial<ClusterState>): ClusterState => ({
  serviceCIDR: '10.96.0.0/12', services: [], slices: [], pods: [], nodes: [],
  proxyHealth: [{ node: 'node-01', ok: true, detail: 'HTTP 200' }], ...over,
});

test('a healthy lab has no findings', () => {
  const s = state({ services: [service('web', { app: 'web' }, '10.96.0.20'), service('kubernetes', undefined, '10.96.0.1')], pods: [pod('web-1', { app: 'web' }, '10.244.1.5', true)], slices: [slice('web', ['10.244.1.5'])] });
  assert.equal(clusterFindings(s), []);
});

test('a Service whose selector matches no pod: what the pods carry instead', () => {
  const f = clusterFindings(state({ services: [service('db', { app: 'database' }, '10.96.0.30')], pods: [pod('db-1', { app: 'db' }, '10.244.1.6', true)] }));
  assert.equal(f.map((x) => x.check), ['service-no-endpoints']);
  assert.is(f[0].title, 'service default/db has no ready endpoints');
  assert.match(f[0].details[0], /no pod in namespace default has the labels app=database; the pods there carry: app=db/);
  assert.match(f[0].details.join(' '), /REJECT/);
});

test('matching pods that are not Ready: the Service finding names them and each pod is a finding', () => {
  const crashing = pod('web-1', { app: 'web' }, '10.244.1.5', false, { containerStatuses: [{ name: 'c', image: 'nginx', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] });
  const f = clusterFindings(state({ services: [service('web', { app: 'web' }, '10.96.0.20')], pods: [crashing], slices: [slice('web', [])] }));
  assert.equal(f.map((x) => x.check), ['service-no-endpoints', 'pod-not-ready']);
  assert.match(f[0].details[0], /1 pod match app=web, 1 of them not Ready \(web-1: CrashLoopBackOff\)/);
  assert.is(f[1].title, 'pod default/web-1 is not Ready: CrashLoopBackOff');
});

test('kube-proxy down on a node; a pod whose address is a ClusterIP; a pod inside the service range', () => {
  const f = clusterFindings(state({
    proxyHealth: [{ node: 'node-01', ok: true, detail: 'HTTP 200' }, { node: 'node-02', ok: false, detail: 'nothing answers on 127.0.0.1:10256 (curl exit 7)' }],
    services: [service('web', { app: 'web' }, '10.96.0.5')],
    pods: [pod('web-1', { app: 'web' }, '10.96.0.5', true), pod('web-2', { app: 'web' }, '10.96.0.9', true)],
    slices: [slice('web', ['10.96.0.5', '10.96.0.9'])],
  }));
  assert.equal(f.map((x) => [x.check, x.severity]), [['kube-proxy-unhealthy', 'error'], ['pod-ip-is-cluster-ip', 'error'], ['pod-ip-in-service-cidr', 'warning']]);
  assert.is(f[0].title, 'kube-proxy on node-02 is not healthy: nothing answers on 127.0.0.1:10256 (curl exit 7)');
  assert.is(f[1].title, 'pod default/web-1 has the address 10.96.0.5, which is also the ClusterIP of service default/web');
  assert.match(f[1].details[0], /80\/TCP is DNATed/);
});

test('doctor on a file: exit status, JSON and text', async () => {
  const { runDoctor } = await import('../../src/cli/commands/doctor.ts');
  const clean = await runDoctor('labs/clusterip-db.yaml');
  assert.is(clean.ok, true);
  assert.is(clean.running, false);
  assert.equal(clean.checks, [{ name: 'lab file', ok: true }, { name: 'address plan', ok: true }]);
  const file = await lab('overlap2', '  podCIDR: 10.0.0.0/8');
  const bad = await runDoctor(file);
  assert.is(bad.ok, false);
  assert.is(bad.lab, 'overlap2');
  assert.equal(bad.checks, [{ name: 'lab file', ok: true }, { name: 'address plan', ok: false }]);
  assert.equal(JSON.parse(JSON.stringify(bad)).findings[0].check, 'pod-service-overlap');
  try {
    await runDoctor('no-such-lab');
    assert.unreachable('a name that is neither a file nor a lab that is up');
  } catch (e) {
    assert.match((e as Error).message, /neither a lab file nor a lab that is up/);
  }
});

test.run();
