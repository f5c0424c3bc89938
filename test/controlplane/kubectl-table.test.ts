// The real kubectl against the lab apiserver: `kubectl get` asks for a
// server-side Table and prints its columns, so what a learner sees must be
// what upstream's printers give — headers, cells, -o wide, -A, sorting
// (which asks for whole objects) and `get -w`. Needs /usr/bin/kubectl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, stopTestServer, until, type TestServer, writeTestKubeconfig } from './helpers.ts';

const KUBECTL = '/usr/bin/kubectl';
const run = promisify(execFile);
const AGE = /^\d+s$/;

let s: TestServer | undefined;
let kubeconfig = '';

async function api(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Record<string, any>> {
  const res = await fetch(`${s!.url}${path}`, { method, headers: { 'Content-Type': contentType }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function kubectlArgs(args: string[]): string[] {
  // Its own discovery cache, so nothing under the user's ~/.kube is read or written.
  return ['--kubeconfig', kubeconfig, '--cache-dir', join(s!.dir, 'kube-cache'), ...args];
}

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(KUBECTL, kubectlArgs(args), { timeout: 20_000 });
  return stdout;
}

/** kubectl's columns are at least two spaces apart; a cell holds single spaces at most. */
const rows = (out: string) => out.trimEnd().split('\n').map((l) => l.trim().split(/\s{2,}/));

/** Compares rows cell by cell; a RegExp cell matches (the AGE). */
function assertRows(actual: string[][], expected: (string | RegExp)[][], what: string): void {
  assert.is(actual.length, expected.length, `${what}: ${JSON.stringify(actual)}`);
  expected.forEach((row, i) => {
    assert.is(actual[i].length, row.length, `${what} row ${i}: ${JSON.stringify(actual[i])}`);
    row.forEach((cell, j) => {
      if (cell instanceof RegExp) assert.match(actual[i][j], cell, `${what} row ${i} cell ${j}`);
      else assert.is(actual[i][j], cell, `${what} row ${i} cell ${j}`);
    });
  });
}

async function runningPod(name: string, node: string, ip: string): Promise<void> {
  await api('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: node, containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
  });
  // No kubelet runs here: report the status a kubelet would, through the status subresource.
  await api('PATCH', `/api/v1/namespaces/default/pods/${name}/status`, {
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'nginx', image: 'nginx:1.27', ready: true, started: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }],
    },
  }, 'application/merge-patch+json');
}

const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.log(`SKIP kubectl-table: ${KUBECTL} is missing; install kubectl to run the kubectl output tests`);

test.before(async () => {
  if (!haveKubectl) return;
  s = await startTestServer();
  kubeconfig = writeTestKubeconfig(s);
  await api('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30007 }] } });
  await runningPod('web-1', 'node-01', '10.244.0.5');
  await runningPod('web-2', 'node-02', '10.244.1.6');
  await api('POST', '/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'shop' } }, template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
  });
  await until('the deployment controller to report 2 updated replicas', async () => (await api('GET', '/apis/apps/v1/namespaces/default/deployments/shop')).status?.updatedReplicas === 2);
  await until('web endpoints', async () => (await api('GET', '/api/v1/namespaces/default/endpoints/web')).subsets?.[0]?.addresses?.length === 2);
});

test.after(async () => {
  await stopTestServer(s);
});

const t = haveKubectl ? test : test.skip;

t('kubectl get svc / -o wide / -A: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) "80:30007/TCP", SELECTOR only when wide, NAMESPACE with -A', async () => {
  const web = await api('GET', '/api/v1/namespaces/default/services/web');
  const ip = web.spec.clusterIP as string;
  assertRows(rows(await kubectl('get', 'svc')), [
    ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', AGE],
    ['web', 'NodePort', ip, '<none>', '80:30007/TCP', AGE],
  ], 'get svc');
  assertRows(rows(await kubectl('get', 'svc', 'web', '-o', 'wide')), [
    ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    ['web', 'NodePort', ip, '<none>', '80:30007/TCP', AGE, 'app=web'],
  ], 'get svc web -o wide');
  assertRows(rows(await kubectl('get', 'svc', '-A')), [
    ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    ['default', 'kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', AGE],
    ['default', 'web', 'NodePort', ip, '<none>', '80:30007/TCP', AGE],
    ['kube-system', 'kube-dns', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP,9153/TCP', AGE],
  ], 'get svc -A');
});

t('kubectl get pods / -o wide: READY, STATUS, RESTARTS; IP, NODE, NOMINATED NODE, READINESS GATES only when wide', async () => {
  const out = rows(await kubectl('get', 'pods', '-l', 'app=web'));
  assertRows(out, [
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    ['web-1', '1/1', 'Running', '0', AGE],
    ['web-2', '1/1', 'Running', '0', AGE],
  ], 'get pods');
  assertRows(rows(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'wide')), [
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    ['web-1', '1/1', 'Running', '0', AGE, '10.244.0.5', 'node-01', '<none>', '<none>'],
    ['web-2', '1/1', 'Running', '0', AGE, '10.244.1.6', 'node-02', '<none>', '<none>'],
  ], 'get pods -o wide');
  // The Deployment's pods: scheduled, but no kubelet reported them.
  const shop = rows(await kubectl('get', 'pods', '-l', 'app=shop', '-o', 'wide')).slice(1);
  assert.is(shop.length, 2);
  for (const r of shop) {
    assert.match(r[0], /^shop-[a-z0-9]+-[a-z0-9]{5}$/);
    assert.equal(r.slice(1, 4), ['0/1', 'Pending', '0']);
    assert.match(r[6], /^node-0[12]$/);
  }
});

t('kubectl get pods --sort-by and --show-labels read the row objects (includeObject=Object, then metadata)', async () => {
  assertRows(rows(await kubectl('get', 'pods', '-l', 'app=web', '--sort-by=.status.podIP', '--show-labels')), [
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS'],
    ['web-1', '1/1', 'Running', '0', AGE, 'app=web'],
    ['web-2', '1/1', 'Running', '0', AGE, 'app=web'],
  ], 'get pods --sort-by --show-labels');
  assert.equal(rows(await kubectl('get', 'pods', '-l', 'app=web', '--sort-by=.spec.nodeName', '--no-headers', '-o', 'wide')).map((r) => r[6]), ['node-01', 'node-02']);
});

t('kubectl get deploy -o wide: READY 0/2 without kubelets, UP-TO-DATE, AVAILABLE, CONTAINERS, IMAGES, SELECTOR', async () => {
  assertRows(rows(await kubectl('get', 'deploy')), [
    ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    ['shop', '0/2', '2', '0', AGE],
  ], 'get deploy');
  assertRows(rows(await kubectl('get', 'deployments.apps', 'shop', '-o', 'wide')), [
    ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    ['shop', '0/2', '2', '0', AGE, 'nginx', 'nginx:1.27', 'app=shop'],
  ], 'get deploy -o wide');
});

t('kubectl get nodes -o wide: STATUS, ROLES from node-role labels, VERSION, INTERNAL-IP and node info', async () => {
  const out = rows(await kubectl('get', 'nodes', '-o', 'wide'));
  assert.equal(out[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
  const nodes = await api('GET', '/api/v1/nodes');
  const info = nodes.items[0].status.nodeInfo;
  assertRows(out.slice(1), [
    ['node-01', 'Ready', 'control-plane', AGE, info.kubeletVersion, '192.168.49.2', '<none>', info.osImage, info.kernelVersion || '<unknown>', info.containerRuntimeVersion],
    ['node-02', 'Ready', '<none>', AGE, info.kubeletVersion, '192.168.49.3', '<none>', info.osImage, info.kernelVersion || '<unknown>', info.containerRuntimeVersion],
  ], 'get nodes -o wide');
  assert.equal(rows(await kubectl('get', 'nodes'))[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
});

t('kubectl get endpoints / endpointslices / ns / servicecidrs: upstream columns and cells', async () => {
  assertRows(rows(await kubectl('get', 'endpoints', 'web')), [
    ['NAME', 'ENDPOINTS', 'AGE'],
    ['web', '10.244.0.5:80,10.244.1.6:80', AGE],
  ], 'get endpoints web');
  const slices = rows(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'));
  assert.equal(slices[0], ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  assert.is(slices.length, 2);
  assert.match(slices[1][0], /^web-[a-z0-9]{5}$/);
  assert.equal(slices[1].slice(1, 4), ['IPv4', '80', '10.244.0.5,10.244.1.6']);
  assertRows(rows(await kubectl('get', 'ns')), [
    ['NAME', 'STATUS', 'AGE'],
    ['default', 'Active', AGE],
    ['kube-node-lease', 'Active', AGE],
    ['kube-public', 'Active', AGE],
    ['kube-system', 'Active', AGE],
  ], 'get ns');
  assertRows(rows(await kubectl('get', 'servicecidrs')), [
    ['NAME', 'CIDRS', 'AGE'],
    ['kubernetes', '10.96.0.0/12', AGE],
  ], 'get servicecidrs');
});

t('kubectl get svc -w: prints the list, then a row for a Service created while it watches', async () => {
  const child = spawn(KUBECTL, kubectlArgs(['get', 'svc', '-w']), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await until('the watch to print the list', () => /^web\s/m.test(out), 15_000);
    await api('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 8080 }] } });
    await until(`a row for the new Service (stderr: ${err})`, () => /^api\s/m.test(out), 15_000);
  } finally {
    child.kill();
  }
  const printed = rows(out);
  assert.equal(printed[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], 'headers once, from the list');
  assert.is(printed.filter((r) => r[0] === 'NAME').length, 1, 'the watch events repeat no headers');
  const api1 = printed.find((r) => r[0] === 'api')!;
  const svc = await api('GET', '/api/v1/namespaces/default/services/api');
  assert.equal(api1.slice(0, 5), ['api', 'ClusterIP', svc.spec.clusterIP, '<none>', '8080/TCP']);
  assert.match(api1[5], AGE);
});

test.run();
