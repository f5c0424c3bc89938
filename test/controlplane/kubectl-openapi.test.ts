// The real kubectl against the lab apiserver, without --validate flags: apply,
// create and replace find the fieldValidation parameter in /openapi/v3 and let
// the server validate (`?fieldValidation=Strict`), so an unknown field is refused
// with upstream's text, and `kubectl explain` reads the same documents.
// Needs /usr/bin/kubectl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, stopTestServer, type TestServer, writeTestKubeconfig } from './helpers.ts';

const KUBECTL = '/usr/bin/kubectl';
const run = promisify(execFile);

let s: TestServer | undefined;
let kubeconfig = '';

async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Its own discovery and OpenAPI cache, so nothing under the user's ~/.kube is read or written.
  const argv = ['--kubeconfig', kubeconfig, '--cache-dir', join(s!.dir, 'kube-cache'), ...args];
  try {
    const { stdout, stderr } = await run(KUBECTL, argv, { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function manifest(name: string, text: string): string {
  const path = join(s!.dir, name);
  writeFileSync(path, text);
  return path;
}

const serviceYaml = (name: string, targetPort: number, extra = '') =>
  ['apiVersion: v1', 'kind: Service', 'metadata:', `  name: ${name}`, 'spec:', '  type: NodePort', extra, '  selector:', `    app: ${name}`, '  ports:', '  - port: 80', `    targetPort: ${targetPort}`, '']
    .filter((l) => l !== '')
    .join('\n');

async function getJSON(path: string): Promise<Record<string, any>> {
  return (await fetch(`${s!.url}${path}`)).json();
}

const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.log(`SKIP kubectl-openapi: ${KUBECTL} is missing; install kubectl to run the kubectl apply/explain tests`);

test.before(async () => {
  if (!haveKubectl) return;
  s = await startTestServer();
  kubeconfig = writeTestKubeconfig(s);
});

test.after(async () => {
  await stopTestServer(s);
});

const t = haveKubectl ? test : test.skip;

t('kubectl apply -f creates, says unchanged the second time, configured after a change, and keeps the allocated nodePort', async () => {
  const file = manifest('web.yaml', serviceYaml('web', 8080));
  const first = await kubectl('apply', '-f', file);
  assert.is(first.stderr, '');
  assert.is(first.stdout, 'service/web created\n');
  assert.is((await kubectl('apply', '-f', file)).stdout, 'service/web unchanged\n');
  const nodePort = (await getJSON('/api/v1/namespaces/default/services/web')).spec.ports[0].nodePort;
  manifest('web.yaml', serviceYaml('web', 9090));
  const third = await kubectl('apply', '-f', file);
  assert.is(third.stdout, 'service/web configured\n');
  const ports = (await getJSON('/api/v1/namespaces/default/services/web')).spec.ports;
  assert.equal(ports, [{ port: 80, protocol: 'TCP', targetPort: 9090, nodePort }]);
});

t('kubectl create -f and replace -f work without --validate', async () => {
  const file = manifest('api.yaml', serviceYaml('api', 8080));
  assert.is((await kubectl('create', '-f', file)).stdout, 'service/api created\n');
  const again = await kubectl('create', '-f', file);
  assert.is(again.code, 1);
  assert.is(again.stderr, `Error from server (AlreadyExists): error when creating "${file}": services "api" already exists\n`);
  manifest('api.yaml', serviceYaml('api', 8081));
  assert.is((await kubectl('replace', '-f', file)).stdout, 'service/api replaced\n');
  assert.is((await getJSON('/api/v1/namespaces/default/services/api')).spec.ports[0].targetPort, 8081);
});

t('a manifest with an unknown field is refused with the strict decoding error, on create and on apply', async () => {
  const file = manifest('bogus.yaml', serviceYaml('bogus', 8080, '  bogus: 1'));
  const created = await kubectl('create', '-f', file);
  assert.is(created.code, 1);
  assert.is(
    created.stderr,
    `Error from server (BadRequest): error when creating "${file}": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.bogus"\n`,
  );
  const applied = await kubectl('apply', '-f', file);
  assert.is(applied.code, 1);
  assert.match(applied.stderr, 'cannot be handled as a Service: strict decoding error: unknown field "spec.bogus"');
  assert.is((await getJSON('/api/v1/namespaces/default/services/bogus')).code, 404);
  // An existing object: apply sends a strategic merge patch, refused as upstream's
  // patch handler refuses it (a 422 naming the decoded patch), printed by kubectl as such.
  const patched = await kubectl('apply', '-f', manifest('web.yaml', serviceYaml('web', 9090, '  bogus: 1')));
  assert.is(patched.code, 1);
  assert.match(patched.stderr, /^The request is invalid: patch: Invalid value: "map\[metadata:map\[annotations:map\[kubectl.kubernetes.io\/last-applied-configuration:\{.*\}\\n\]\] spec:map\[bogus:1\]\]": strict decoding error: unknown field "spec.bogus"\n$/);
  assert.is((await getJSON('/api/v1/namespaces/default/services/web')).spec.bogus, undefined);
});

t('--validate=warn creates and prints the server\'s Warning', async () => {
  const file = manifest('warned.yaml', serviceYaml('warned', 8080, '  bogus: 1'));
  const r = await kubectl('create', '--validate=warn', '-f', file);
  assert.is(r.stdout, 'service/warned created\n');
  assert.is(r.stderr, 'Warning: unknown field "spec.bogus"\n');
});

t('kubectl explain service.spec.ports prints the field and its fields with their docs', async () => {
  const r = await kubectl('explain', 'service.spec.ports');
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^KIND:\s+Service\nVERSION:\s+v1\n\nFIELD: ports <\[\]ServicePort>\n/);
  assert.match(out, 'The list of ports that are exposed by this service.');
  assert.match(out, /\n {2}port\t<integer> -required-\n {4}The port that will be exposed by this service\./);
  assert.match(out, /\n {2}targetPort\t<IntOrString>\n/);
  assert.match(out, /\n {2}nodePort\t<integer>\n/);
});

t('kubectl explain finds apps/v1 and networking kinds, and names a field that does not exist as upstream does', async () => {
  const deploy = await kubectl('explain', 'deployment.spec.strategy.type');
  assert.is(deploy.code, 0, deploy.stderr);
  assert.match(deploy.stdout, /^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n\nFIELD: type <string>\n/);
  const cidr = await kubectl('explain', 'servicecidrs.spec');
  assert.match(cidr.stdout, /GROUP:\s+networking.k8s.io\nKIND:\s+ServiceCIDR/);
  assert.match(cidr.stdout, /\n {2}cidrs\t<\[\]string>\n/);
  const missing = await kubectl('explain', 'service.spec.bogus');
  assert.is(missing.code, 1);
  assert.match(missing.stderr, 'field "bogus" does not exist');
});

t('kubectl diff, apply --dry-run=server and edit go through the same documents without flags', async () => {
  const file = manifest('edited.yaml', serviceYaml('edited', 8080));
  assert.is((await kubectl('apply', '-f', file)).stdout, 'service/edited created\n');
  manifest('edited.yaml', serviceYaml('edited', 8181));
  const diff = await kubectl('diff', '-f', file);
  assert.is(diff.code, 1, diff.stderr);
  assert.match(diff.stdout, /\n-    targetPort: 8080\n\+    targetPort: 8181\n/);
  assert.is((await kubectl('apply', '--dry-run=server', '-f', file)).stdout, 'service/edited configured (server dry run)\n');
  assert.is((await getJSON('/api/v1/namespaces/default/services/edited')).spec.ports[0].targetPort, 8080);
  // An editor that changes the port once; kubectl edit sends a strategic merge patch with fieldValidation=Strict.
  const editor = manifest('editor.sh', '#!/bin/sh\nsed -i "s/targetPort: 8080/targetPort: 8282/" "$1"\n');
  chmodSync(editor, 0o755);
  const argv = ['--kubeconfig', kubeconfig, '--cache-dir', join(s!.dir, 'kube-cache'), 'edit', 'svc', 'edited'];
  const { stdout } = await run(KUBECTL, argv, { timeout: 20_000, env: { ...process.env, KUBE_EDITOR: editor } });
  assert.is(stdout, 'service/edited edited\n');
  assert.is((await getJSON('/api/v1/namespaces/default/services/edited')).spec.ports[0].targetPort, 8282);
});

t('kubectl api-resources still lists the served resources', async () => {
  const r = await kubectl('api-resources', '--no-headers', '-o', 'name');
  assert.is(r.code, 0, r.stderr);
  for (const name of ['services', 'pods', 'endpoints', 'deployments.apps', 'endpointslices.discovery.k8s.io']) assert.ok(r.stdout.split('\n').includes(name), `${name} in ${r.stdout}`);
});

test.run();
