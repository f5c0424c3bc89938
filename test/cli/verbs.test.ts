// The kubectl-style verbs end to end against the real lab apiserver (in this
// process, on a unix socket in a temp dir — no root, no nodes): what they print,
// what they leave in the API, and the errors kubectl would give.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/controlplane/client.ts';
import type { Deployment, Service } from '../../src/k8s/objects.ts';
import { startTestServer, stopTestServer, until, type TestServer } from '../controlplane/helpers.ts';
import registerApply from '../../src/cli/commands/apply.ts';
import registerCreate from '../../src/cli/commands/create.ts';
import registerDelete from '../../src/cli/commands/delete.ts';
import registerDescribe from '../../src/cli/commands/describe.ts';
import registerExpose from '../../src/cli/commands/expose.ts';
import registerScale from '../../src/cli/commands/scale.ts';

let server: TestServer;
let client: ApiClient;
let dir: string;

/** Runs one svclab command in this process; stdout, stderr and the exit code come back. */
async function svclab(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('svclab').exitOverride();
  for (const r of [registerApply, registerCreate, registerDelete, registerDescribe, registerExpose, registerScale]) r(program);
  let out = '';
  let err = '';
  const [write, writeErr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'svclab', ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

const get = <T>(path: string) => client.getOrUndefined<T>(path);

test.before(async () => {
  server = await startTestServer();
  process.env.SVCLAB_APISERVER = `unix:${server.socket}`;
  client = new ApiClient(`unix:${server.socket}`);
  dir = await mkdtemp(join(tmpdir(), 'svclab-verbs-'));
});

test.after(async () => {
  delete process.env.SVCLAB_APISERVER;
  client?.close();
  await stopTestServer(server);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the seed article, step by step: create deployment, expose, delete, create service', async () => {
  let r = await svclab('create', 'deployment', 'nginx', '--image', 'nginx');
  assert.equal(r, { out: 'deployment.apps/nginx created\n', err: '', code: 0 });
  const d = await get<Deployment>('/apis/apps/v1/namespaces/default/deployments/nginx');
  assert.equal(d!.spec!.selector, { matchLabels: { app: 'nginx' } });
  assert.is(d!.spec!.strategy?.type, 'RollingUpdate');

  r = await svclab('expose', 'deployment', 'nginx', '--port=8080', '--target-port=80', '--type=ClusterIP');
  assert.equal(r, { out: 'service/nginx exposed\n', err: '', code: 0 });
  let svc = await get<Service>('/api/v1/namespaces/default/services/nginx');
  assert.equal(svc!.spec!.selector, { app: 'nginx' });
  assert.equal(svc!.metadata!.labels, { app: 'nginx' });
  assert.equal(svc!.spec!.ports, [{ protocol: 'TCP', port: 8080, targetPort: 80 }]);
  assert.match(svc!.spec!.clusterIP!, /^10\.(9[6-9]|10\d|11[01])\./);

  r = await svclab('delete', 'svc', 'nginx');
  assert.equal(r, { out: 'service "nginx" deleted from default namespace\n', err: '', code: 0 });
  assert.is(await get('/api/v1/namespaces/default/services/nginx'), undefined);

  r = await svclab('create', 'service', 'clusterip', 'nginx', '--tcp=8080:80');
  assert.equal(r, { out: 'service/nginx created\n', err: '', code: 0 });
  svc = await get<Service>('/api/v1/namespaces/default/services/nginx');
  assert.equal(svc!.spec!.ports, [{ name: '8080-80', protocol: 'TCP', port: 8080, targetPort: 80 }]);
  assert.equal(svc!.spec!.selector, { app: 'nginx' });

  // Both ways end up selecting the same pods, as the article says.
  r = await svclab('create', 'service', 'clusterip', 'nginx', '--tcp=8080:80');
  assert.equal(r, { out: '', err: 'error: failed to create ClusterIP service: services "nginx" already exists\n', code: 1 });
  r = await svclab('expose', 'deployment', 'nginx', '--port=8080');
  assert.equal(r, { out: '', err: 'Error from server (AlreadyExists): services "nginx" already exists\n', code: 1 });
});

test('expose NodePort with a chosen node port; the apiserver\'s Invalid text for a bad one', async () => {
  await svclab('create', 'deployment', 'web', '--image', 'nginx', '--port', '80', '--replicas', '2');
  let r = await svclab('expose', 'deploy/web', '--type', 'NodePort', '--node-port', '30080');
  assert.equal(r, { out: 'service/web exposed\n', err: '', code: 0 });
  const svc = await get<Service>('/api/v1/namespaces/default/services/web');
  assert.equal(svc!.spec!.ports, [{ protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30080 }]);
  r = await svclab('expose', 'deployment', 'web', '--name', 'web2', '--type', 'NodePort', '--node-port', '80');
  assert.is(r.code, 1);
  assert.match(r.err, /^The Service "web2" is invalid: spec.ports\[0\].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767\n$/);
  r = await svclab('expose', 'deployment', 'ghost', '--port', '80');
  assert.equal(r, { out: '', err: 'Error from server (NotFound): deployments.apps "ghost" not found\n', code: 1 });
  r = await svclab('expose', 'deployment', 'nginx', '--name', 'np', '--dry-run=client', '-o', 'yaml');
  assert.is(r.code, 1);
  assert.is(r.err, "error: couldn't find port via --port flag or introspection\n");
});

test('apply: created, unchanged, configured; the missing-annotation warning; errors name the file', async () => {
  const file = join(dir, 'app.yaml');
  const manifest = (replicas: number, port: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: app, labels: { app: app } }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec: { containers: [{ name: app, image: nginx, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: app }
spec:
  selector: { app: app }
  ports: [{ port: ${port}, targetPort: 80 }]
`;
  await writeFile(file, manifest(2, 80));
  let r = await svclab('apply', '-f', file);
  assert.equal(r, { out: 'deployment.apps/app created\nservice/app created\n', err: '', code: 0 });
  r = await svclab('apply', '-f', file);
  assert.equal(r, { out: 'deployment.apps/app unchanged\nservice/app unchanged\n', err: '', code: 0 });
  const ip = (await get<Service>('/api/v1/namespaces/default/services/app'))!.spec!.clusterIP;

  await writeFile(file, manifest(3, 8080));
  r = await svclab('apply', '-f', file, '--dry-run=client');
  assert.equal(r.out, 'deployment.apps/app configured (dry run)\nservice/app configured (dry run)\n');
  assert.is((await get<Deployment>('/apis/apps/v1/namespaces/default/deployments/app'))!.spec!.replicas, 2);
  r = await svclab('apply', '-f', file);
  assert.equal(r, { out: 'deployment.apps/app configured\nservice/app configured\n', err: '', code: 0 });
  assert.is((await get<Deployment>('/apis/apps/v1/namespaces/default/deployments/app'))!.spec!.replicas, 3);
  const svc = await get<Service>('/api/v1/namespaces/default/services/app');
  // The port changed (merge key "port": the old one is dropped, the new one added); the ClusterIP stays.
  assert.equal(svc!.spec!.ports!.map((p) => p.port), [8080]);
  assert.is(svc!.spec!.clusterIP, ip);

  // Objects made with `create` carry no last-applied annotation.
  r = await svclab('apply', '-f', file.replace('app.yaml', 'nginx-svc.yaml'));
  assert.is(r.code, 1); // no such file yet
  await writeFile(join(dir, 'nginx-svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: nginx, labels: { app: nginx } }\nspec:\n  type: ClusterIP\n  selector: { app: nginx }\n  ports: [{ name: 8080-80, port: 8080, targetPort: 80 }]\n');
  r = await svclab('apply', '-f', join(dir, 'nginx-svc.yaml'));
  assert.is(r.out, 'service/nginx configured\n');
  assert.match(r.err, /^Warning: resource services\/nginx is missing the kubectl.kubernetes.io\/last-applied-configuration annotation/);
  assert.is((await svclab('apply', '-f', join(dir, 'nginx-svc.yaml'))).out, 'service/nginx unchanged\n');

  // One bad object does not stop the others; its error comes last.
  const mixed = join(dir, 'mixed.yaml');
  await writeFile(mixed, 'apiVersion: v1\nkind: Service\nmetadata: { name: bad }\nspec:\n  type: NodePort\n  selector: { app: x }\n  ports: [{ port: 80, nodePort: 30080 }]\n---\napiVersion: v1\nkind: Service\nmetadata: { name: good }\nspec:\n  selector: { app: x }\n  ports: [{ port: 80 }]\n');
  r = await svclab('apply', '-f', mixed);
  assert.is(r.code, 1);
  assert.is(r.out, 'service/good created\n');
  assert.is(r.err, 'The Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated\n');
});

test('scale: through the scale subresource; kubectl\'s errors', async () => {
  let r = await svclab('scale', 'deployment', 'app', '--replicas', '1');
  assert.equal(r, { out: 'deployment.apps/app scaled\n', err: '', code: 0 });
  assert.is((await get<Deployment>('/apis/apps/v1/namespaces/default/deployments/app'))!.spec!.replicas, 1);
  r = await svclab('scale', 'deploy/ghost', '--replicas=2');
  assert.equal(r, { out: '', err: 'Error from server (NotFound): deployments.apps "ghost" not found\n', code: 1 });
  r = await svclab('scale', 'deployment', 'app', '--replicas=-1');
  assert.equal(r.err, 'error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n');
});

test('describe: kubectl layout, prefix match, NotFound', async () => {
  let r = await svclab('describe', 'svc', 'web');
  assert.is(r.code, 0);
  const lines = r.out.split('\n');
  assert.is(lines[0], 'Name:                     web');
  assert.ok(lines.includes('Selector:                 app=web'), r.out);
  assert.ok(lines.includes('Type:                     NodePort'), r.out);
  assert.ok(lines.includes('Port:                     <unset>  80/TCP'), r.out);
  assert.ok(lines.includes('NodePort:                 <unset>  30080/TCP'), r.out);
  assert.ok(lines.includes('External Traffic Policy:  Cluster'), r.out);
  assert.ok(lines.at(-2)!.startsWith('Events:'), r.out);
  // No kubelet in this test, so the pods exist but are not ready: no endpoints yet.
  assert.ok(lines.some((l) => /^Endpoints: +(<none>)?$/.test(l)), r.out);

  r = await svclab('describe', 'deployment', 'ngin');
  assert.match(r.out, /^Name: +nginx\n/);
  assert.match(r.out, /^Selector: +app=nginx$/m);
  r = await svclab('describe', 'svc', 'ghost');
  assert.equal(r, { out: '', err: 'Error from server (NotFound): services "ghost" not found\n', code: 1 });
  r = await svclab('describe', 'node', 'node-01');
  assert.match(r.out, /^Name: +node-01\n/);
  assert.match(r.out, /^PodCIDR: +10\.244\.0\.0\/24$/m);
});

test('delete: several at once, by file, NotFound and --ignore-not-found', async () => {
  let r = await svclab('delete', 'service/good', 'service/app');
  assert.equal(r, { out: 'service "good" deleted from default namespace\nservice "app" deleted from default namespace\n', err: '', code: 0 });
  r = await svclab('delete', 'svc', 'ghost');
  assert.equal(r, { out: '', err: 'Error from server (NotFound): services "ghost" not found\n', code: 1 });
  r = await svclab('delete', 'svc', 'ghost', '--ignore-not-found');
  assert.equal(r, { out: '', err: '', code: 0 });
  const file = join(dir, 'nginx-svc.yaml');
  r = await svclab('delete', '-f', file);
  assert.equal(r, { out: 'service "nginx" deleted from default namespace\n', err: '', code: 0 });
  r = await svclab('delete', '-f', file);
  assert.equal(r, { out: '', err: `Error from server (NotFound): error when deleting "${file}": services "nginx" not found\n`, code: 1 });
  r = await svclab('delete', 'svc');
  assert.equal(r.err, 'error: resource(s) were provided, but no name was specified\n');
  // A Deployment goes at once; its pods follow through the garbage collector.
  r = await svclab('delete', 'deployment', 'app', '--wait=false');
  assert.is(r.out, 'deployment.apps "app" deleted from default namespace\n');
  await until('deployment app gone', async () => !(await get('/apis/apps/v1/namespaces/default/deployments/app')));
});

test.run();
