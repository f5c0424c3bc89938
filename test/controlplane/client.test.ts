import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient, ApiError, informer, parseTarget } from '../../src/controlplane/client.ts';
import { runApiServer } from '../../src/controlplane/apiserver.ts';
import { EnvironmentError } from '../../src/util/errors.ts';
import { startTestServer, stopTestServer, until, type TestServer } from './helpers.ts';

const SVC = '/api/v1/namespaces/default/services';
const svc = (name: string) => ({ metadata: { name }, spec: { ports: [{ port: 80 }] } });

test('targets: URL, unix: forms and bare socket paths', () => {
  assert.equal(parseTarget('http://192.168.49.2:6443'), { server: 'http://192.168.49.2:6443' });
  assert.equal(parseTarget('unix:///run/x/api.sock'), { socket: '/run/x/api.sock' });
  assert.equal(parseTarget('unix:/run/x/api.sock'), { socket: '/run/x/api.sock' });
  assert.equal(parseTarget('/run/x/api.sock'), { socket: '/run/x/api.sock' });
  assert.equal(parseTarget('192.168.49.2:6443'), { server: 'http://192.168.49.2:6443' });
});

test('a watch from a too-old resourceVersion gets 410, and the reflector relists', async () => {
  let s: TestServer | undefined;
  const c = () => new ApiClient(s!.url!);
  let client: ApiClient | undefined;
  try {
    s = await startTestServer({ historyLimit: 3 });
    client = c();
    await client.create(SVC, svc('old-1'));
    const rv0 = (await client.list(SVC)).metadata.resourceVersion;
    for (const n of ['n1', 'n2', 'n3', 'n4']) await client.create(SVC, svc(n));
    await client.delete(`${SVC}/old-1`);

    const gone = await client.watchStream(SVC, rv0, {}, () => {}).catch((e) => e);
    assert.instance(gone, ApiError);
    assert.is(gone.code, 410);
    assert.is(gone.reason, 'Expired');
    assert.match(gone.status.message, /^too old resource version: \d+ \(\d+\)$/);

    const events: string[] = [];
    let synced = 0;
    const w = client.watch(SVC, rv0, (e) => events.push(`${e.type} ${e.object.metadata.name}`), { onSynced: () => synced++ });
    await until('the relist', () => synced === 1);
    assert.equal(events.sort(), ['ADDED kubernetes', 'ADDED n1', 'ADDED n2', 'ADDED n3', 'ADDED n4']);
    assert.not.ok(events.includes('ADDED old-1'), 'a service deleted before the relist is not reported as present');
    events.length = 0;
    await client.create(SVC, svc('after'));
    await until('the live event after the relist', () => events.includes('ADDED after'));
    assert.ok(Number(w.resourceVersion) > Number(rv0));
    w.stop();
    await w.done;
  } finally {
    client?.close();
    await stopTestServer(s);
  }
});

test('an informer survives an apiserver restart: state is kept and the watch resumes', async () => {
  let s: TestServer | undefined;
  let second: Awaited<ReturnType<typeof runApiServer>> | undefined;
  const client = () => new ApiClient(`unix://${s!.socket}`);
  let c: ApiClient | undefined;
  try {
    s = await startTestServer();
    c = client();
    const keep = await c.create(SVC, { metadata: { name: 'keep' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    const seen = new Map<string, string>();
    const deleted: string[] = [];
    const inf = informer<{ metadata: { name: string }; spec: { clusterIP: string } }>(c, SVC, {
      onAdd: (o) => seen.set(o.metadata.name, o.spec.clusterIP),
      onUpdate: (_old, o) => seen.set(o.metadata.name, o.spec.clusterIP),
      onDelete: (o) => deleted.push(o.metadata.name),
    }, { backoff: { initial: 20, max: 100 }, onError: () => {} });
    await inf.synced;
    assert.ok(inf.hasSynced());
    assert.is(seen.get('keep'), keep.spec.clusterIP);

    await s.close();
    second = await runApiServer(s.options);
    // The restarted server kept the object and its allocations.
    const again = await c.get(`${SVC}/keep`);
    assert.is(again.spec.clusterIP, keep.spec.clusterIP);
    assert.is(again.spec.ports[0].nodePort, keep.spec.ports[0].nodePort);
    const clash = await c.create(SVC, { metadata: { name: 'clash' }, spec: { clusterIP: keep.spec.clusterIP, ports: [{ port: 80 }] } }).catch((e) => e);
    assert.match(clash.message, /provided IP is already allocated/);

    await c.create(SVC, svc('new'));
    await c.delete(`${SVC}/keep`);
    await until('the informer to see changes after the restart', () => seen.has('new') && deleted.includes('keep'), 5000);
    assert.equal(inf.list().map((o) => o.metadata.name).sort(), ['kubernetes', 'new']);
    inf.stop();
    await inf.watcher.done;
  } finally {
    c?.close();
    await second?.close();
    await stopTestServer(s);
  }
});

test('an apiserver that is gone is an environment error with what to do (the CLI prints it as two lines, no stack)', async () => {
  const c = new ApiClient('unix:///nonexistent/svclab-test/api.sock');
  try {
    await c.list('/api/v1/pods');
    assert.unreachable('the list should fail');
  } catch (e) {
    assert.instance(e, EnvironmentError);
    assert.match((e as Error).message, /^the apiserver at unix:\/nonexistent\/svclab-test\/api.sock is not reachable \(ENOENT\): is the lab up\?$/);
    assert.match((e as EnvironmentError).hint ?? '', /svclab down LAB/);
    assert.is((e as NodeJS.ErrnoException).code, 'ENOENT');
  }
});

test.run();
