// kubectl's generators against the lab apiserver: `create service|deployment|
// namespace`, `expose` and `run` send protobuf bodies (client-go's default for
// built-in kinds), `scale` and `label` send patches. Each prints upstream's
// line and leaves the object a real apiserver would hold. Without
// /usr/bin/kubectl the kubectl tests skip (said loudly); the wire tests run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeProtobufObject, envelope } from '../../src/controlplane/protobuf/decode.ts';
import { startTestServer, stopTestServer, type TestServer, writeTestKubeconfig } from './helpers.ts';

const KUBECTL = '/usr/bin/kubectl';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const run = promisify(execFile);

let s: TestServer | undefined;
let kubeconfig = '';

async function get(path: string): Promise<Record<string, any>> {
  const res = await fetch(`${s!.url}${path}`);
  const json = await res.json();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function post(path: string, body: Uint8Array, contentType: string, method = 'POST'): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${s!.url}${path}`, { method, headers: { 'Content-Type': contentType }, body: new Uint8Array(body) });
  return { status: res.status, json: await res.json() };
}

/** kubectl's stdout, or its exit code and stderr when it fails. */
async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Its own discovery cache, so nothing under the user's ~/.kube is read or written.
  const argv = ['--kubeconfig', kubeconfig, '--cache-dir', join(s!.dir, 'kube-cache'), ...args];
  try {
    const { stdout, stderr } = await run(KUBECTL, argv, { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.log(`SKIP kubectl-generators: ${KUBECTL} is missing; install kubectl to run the kubectl generator tests`);

test.before(async () => {
  s = await startTestServer();
  kubeconfig = writeTestKubeconfig(s);
});

test.after(async () => {
  await stopTestServer(s);
});

const t = haveKubectl ? test : test.skip;

t('kubectl create service nodeport web --tcp=80:8080 --node-port=30080', async () => {
  assert.is(await ok('create', 'service', 'nodeport', 'web', '--tcp=80:8080', '--node-port=30080'), 'service/web created');
  const svc = await get('/api/v1/namespaces/default/services/web');
  assert.is(svc.spec.type, 'NodePort');
  assert.equal(svc.spec.ports, [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }]);
  assert.equal(svc.spec.selector, { app: 'web' });
  assert.equal(svc.metadata.labels, { app: 'web' });
  assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\./);
});

t('kubectl create service clusterip db --tcp=3306', async () => {
  assert.is(await ok('create', 'service', 'clusterip', 'db', '--tcp=3306'), 'service/db created');
  const svc = await get('/api/v1/namespaces/default/services/db');
  assert.is(svc.spec.type, 'ClusterIP');
  assert.equal(svc.spec.ports, [{ name: '3306', protocol: 'TCP', port: 3306, targetPort: 3306 }]);
  assert.equal(svc.spec.selector, { app: 'db' });
});

t('kubectl create deployment web --image=nginx --replicas=2', async () => {
  assert.is(await ok('create', 'deployment', 'web', '--image=nginx', '--replicas=2'), 'deployment.apps/web created');
  const d = await get('/apis/apps/v1/namespaces/default/deployments/web');
  assert.is(d.spec.replicas, 2);
  assert.equal(d.spec.selector, { matchLabels: { app: 'web' } });
  assert.equal(d.spec.template.metadata.labels, { app: 'web' });
  assert.is(d.spec.template.spec.containers.length, 1);
  assert.is(d.spec.template.spec.containers[0].name, 'nginx');
  assert.is(d.spec.template.spec.containers[0].image, 'nginx');
});

t('kubectl expose deployment web --port=80 --name=web2', async () => {
  assert.is(await ok('expose', 'deployment', 'web', '--port=80', '--name=web2'), 'service/web2 exposed');
  const svc = await get('/api/v1/namespaces/default/services/web2');
  assert.is(svc.spec.type, 'ClusterIP');
  assert.equal(svc.spec.selector, { app: 'web' });
  assert.equal(svc.spec.ports, [{ protocol: 'TCP', port: 80, targetPort: 80 }]);
});

t('kubectl run client --image=busybox -- sleep 3600', async () => {
  assert.is(await ok('run', 'client', '--image=busybox', '--', 'sleep', '3600'), 'pod/client created');
  const pod = await get('/api/v1/namespaces/default/pods/client');
  assert.equal(pod.metadata.labels, { run: 'client' });
  assert.is(pod.spec.containers[0].name, 'client');
  assert.is(pod.spec.containers[0].image, 'busybox');
  assert.equal(pod.spec.containers[0].args, ['sleep', '3600']);
  assert.is(pod.spec.containers[0].command, undefined);
  assert.is(pod.spec.restartPolicy, 'Always');
});

t('kubectl scale deployment web --replicas=3', async () => {
  assert.is(await ok('scale', 'deployment', 'web', '--replicas=3'), 'deployment.apps/web scaled');
  assert.is((await get('/apis/apps/v1/namespaces/default/deployments/web')).spec.replicas, 3);
});

t('kubectl label svc web tier=front', async () => {
  assert.is(await ok('label', 'svc', 'web', 'tier=front'), 'service/web labeled');
  assert.equal((await get('/api/v1/namespaces/default/services/web')).metadata.labels, { app: 'web', tier: 'front' });
});

t('kubectl create namespace team', async () => {
  assert.is(await ok('create', 'namespace', 'team'), 'namespace/team created');
  assert.is((await get('/api/v1/namespaces/team')).metadata.name, 'team');
});

t('a NodePort already allocated: kubectl prints upstream\'s Invalid error and exits 1', async () => {
  const r = await kubectl('create', 'service', 'nodeport', 'web3', '--tcp=80:8080', '--node-port=30080');
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr.trim(), 'error: failed to create NodePort service: Service "web3" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
  const gone = await fetch(`${s!.url}/api/v1/namespaces/default/services/web3`);
  assert.is(gone.status, 404);
});

t('kubectl drain --disable-eviction: the pods\' DELETEs carry protobuf DeleteOptions, grace period 0 honoured', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray' }, spec: { nodeName: 'node-02', containers: [{ name: 'c', image: 'busybox' }] } };
  const created = await fetch(`${s!.url}/api/v1/namespaces/default/pods`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pod) });
  assert.is(created.status, 201);
  const r = await kubectl('drain', 'node-02', '--force', '--disable-eviction', '--grace-period=0', '--timeout=15s');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'node/node-02 cordoned');
  assert.ok(lines.includes('pod/stray deleted'), r.stdout);
  assert.is(lines.at(-1), 'node/node-02 drained');
  assert.match(r.stderr, /Warning: deleting Pods that declare no controller: .*default\/stray/);
  assert.is((await fetch(`${s!.url}/api/v1/namespaces/default/pods/stray`)).status, 404);
  assert.is((await get('/api/v1/nodes/node-02')).spec.unschedulable, true);
});

// ---- the wire, without kubectl ----

test('a protobuf Service posted by hand is created and answered in JSON', async () => {
  const body = encodeProtobufObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wire' }, spec: { ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
  const r = await post('/api/v1/namespaces/default/services', body, PROTOBUF);
  assert.is(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.json.spec.ports, [{ port: 53, protocol: 'UDP', targetPort: 'dns' }]);
});

test('a protobuf body of a kind the lab does not serve: 400 BadRequest Status with upstream\'s text', async () => {
  const r = await post('/api/v1/namespaces/default/services', envelope('v1', 'ConfigMap', new Uint8Array()), PROTOBUF);
  assert.is(r.status, 400);
  assert.equal({ kind: r.json.kind, reason: r.json.reason, code: r.json.code }, { kind: 'Status', reason: 'BadRequest', code: 400 });
  assert.is(r.json.message, 'ConfigMap in version "v1" cannot be handled as a Service: no kind "ConfigMap" is registered for version "v1" in scheme "svclab"');
});

test('JSON sent as protobuf: 400 with the missing prefix named', async () => {
  const r = await post('/api/v1/namespaces/default/services', Buffer.from('{"kind":"Service"}'), PROTOBUF);
  assert.is(r.status, 400);
  assert.is(r.json.message, 'the object provided is unrecognized (must be of type Service): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({"kind":"Service"})');
});

test('protobuf on the scale subresource (autoscaling/v1 Scale has no message here): 415 UnsupportedMediaType', async () => {
  const d = encodeProtobufObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } });
  const r = await post('/apis/apps/v1/namespaces/default/deployments/x/scale', d, PROTOBUF, 'PUT');
  assert.is(r.status, 415);
  assert.is(r.json.reason, 'UnsupportedMediaType');
});

test.run();
