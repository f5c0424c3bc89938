import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { Pod } from '../../src/k8s/objects.ts';
import { createPodApi } from '../../src/workloads/pod-api.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const pod = (name: string, uid: string, rv: string): Pod => ({ metadata: { name, namespace: 'default', uid, resourceVersion: rv }, spec: { nodeName: 'node-01', containers: [] } });

test('lists then watches the node pods, relists after 410 Gone, writes status and deletes with grace 0', async () => {
  const sock = `/tmp/svclab-podapi-${process.pid}.sock`;
  const requests: string[] = [];
  const bodies: unknown[] = [];
  let watcher: ServerResponse | undefined;
  let listCount = 0;
  let items = [pod('a', 'ua', '5')];
  const srv = createServer((req, res) => {
    requests.push(`${req.method} ${decodeURIComponent(req.url!)}`);
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (body) bodies.push(JSON.parse(body));
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'GET' && url.searchParams.get('watch')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        watcher = res;
        return;
      }
      if (req.method === 'GET') {
        listCount += 1;
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(10 * listCount) }, items }));
        return;
      }
      if (req.method === 'DELETE' && url.pathname.endsWith('/gone')) {
        res.writeHead(404).end(JSON.stringify({ kind: 'Status', code: 404, message: 'pods "gone" not found' }));
        return;
      }
      res.end('{}');
    });
  });
  rmSync(sock, { force: true });
  await new Promise<void>((r) => srv.listen(sock, r));
  const events: string[] = [];
  const api = createPodApi(sock, () => {});
  try {
    const w = await api.watchPods('node-01', {
      onAdd: (p) => events.push(`add ${p.metadata!.name}`),
      onUpdate: (p) => events.push(`update ${p.metadata!.name}`),
      onDelete: (p) => events.push(`delete ${p.metadata!.name}`),
    });
    assert.equal(events, ['add a']);
    assert.is(requests[0], 'GET /api/v1/pods?fieldSelector=spec.nodeName=node-01');
    while (!watcher) await sleep(10);
    const watchQuery = new URL(requests[1].slice(4), 'http://x').searchParams;
    assert.equal([watchQuery.get('watch'), watchQuery.get('fieldSelector'), watchQuery.get('resourceVersion')], ['1', 'spec.nodeName=node-01', '10']);
    watcher.write(JSON.stringify({ type: 'ADDED', object: pod('b', 'ub', '11') }) + '\n');
    watcher.write(JSON.stringify({ type: 'MODIFIED', object: pod('a', 'ua', '12') }) + '\n' + JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } }) + '\n');
    while (events.length < 3) await sleep(10);
    assert.equal(events, ['add a', 'add b', 'update a']);
    // The server compacted: 410 in the stream, then the list no longer has b.
    items = [pod('a', 'ua', '20')];
    const old = watcher;
    watcher = undefined;
    old.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }) + '\n');
    while (!watcher) await sleep(10);
    assert.equal(events.slice(3), ['update a', 'delete b']);
    assert.match(requests.at(-1)!, /resourceVersion=20(&|$)/);
    w.stop();

    await api.putStatus(pod('a', 'ua', '20'), { phase: 'Running' });
    assert.is(requests.at(-1), 'PUT /api/v1/namespaces/default/pods/a/status');
    assert.equal(bodies.at(-1), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', uid: 'ua' }, status: { phase: 'Running' } });
    await api.deletePod(pod('a', 'ua', '20'));
    assert.is(requests.at(-1), 'DELETE /api/v1/namespaces/default/pods/a');
    assert.equal(bodies.at(-1), { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: 'ua' } });
    await api.deletePod(pod('gone', 'ug', '1')); // 404: already gone is fine
  } finally {
    watcher?.end();
    srv.closeAllConnections();
    srv.close();
    rmSync(sock, { force: true });
  }
});

test.run();
