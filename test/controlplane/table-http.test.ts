// Server-side Tables on the wire, without kubectl: what a GET and a watch
// answer when the Accept header asks for meta.k8s.io Table, and that a client
// asking for JSON still gets the objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, stopTestServer, type TestServer } from './helpers.ts';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
let s: TestServer | undefined;

test.before(async () => {
  // A short history so a watch from an old resourceVersion is 410; frequent bookmarks.
  s = await startTestServer({ historyLimit: 3, bookmarkIntervalMs: 100 });
  for (const name of ['a', 'b']) {
    const res = await fetch(`${s.url}/api/v1/namespaces/default/services`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { app: name } }, spec: { selector: { app: name }, ports: [{ port: 80 }] } }),
    });
    assert.is(res.status, 201);
  }
});

test.after(async () => {
  await stopTestServer(s);
});

const get = async (path: string, accept?: string) => {
  const res = await fetch(`${s!.url}${path}`, { headers: accept ? { Accept: accept } : {} });
  return { status: res.status, body: (await res.json()) as any };
};

/** The first `n` events of a watch, then the connection is dropped. */
async function watchEvents(path: string, n: number): Promise<any[]> {
  const ac = new AbortController();
  const res = await fetch(`${s!.url}${path}`, { headers: { Accept: TABLE }, signal: ac.signal });
  const events: any[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (events.length >= n) break;
    }
  } finally {
    ac.abort();
  }
  return events.slice(0, n);
}

test('a list asked for as Table: columns, one row per object with its PartialObjectMetadata, the list resourceVersion', async () => {
  const { status, body } = await get('/api/v1/namespaces/default/services?labelSelector=app%3Da', TABLE);
  assert.is(status, 200);
  assert.is(body.kind, 'Table');
  assert.is(body.apiVersion, 'meta.k8s.io/v1');
  assert.match(body.metadata.resourceVersion, /^\d+$/);
  assert.equal(body.columnDefinitions.map((c: any) => [c.name, c.priority]), [['Name', 0], ['Type', 0], ['Cluster-IP', 0], ['External-IP', 0], ['Port(s)', 0], ['Age', 0], ['Selector', 1]]);
  assert.is(body.rows.length, 1);
  assert.equal(body.rows[0].cells.slice(0, 2), ['a', 'ClusterIP']);
  assert.equal(body.rows[0].object.kind, 'PartialObjectMetadata');
  assert.equal(body.rows[0].object.metadata.labels, { app: 'a' });
  assert.is(body.rows[0].object.spec, undefined);
});

test('one object as a v1beta1 Table carries its own resourceVersion; includeObject=Object the whole Service', async () => {
  const plain = (await get('/api/v1/namespaces/default/services/b')).body;
  const { body } = await get('/api/v1/namespaces/default/services/b?includeObject=Object', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io');
  assert.is(body.apiVersion, 'meta.k8s.io/v1beta1');
  assert.is(body.metadata.resourceVersion, plain.metadata.resourceVersion);
  assert.equal(body.rows[0].object, plain);
});

test('plain JSON stays the default; a bad includeObject is a 400 Status', async () => {
  assert.is((await get('/api/v1/namespaces/default/services')).body.kind, 'ServiceList');
  assert.is((await get('/api/v1/namespaces/default/services', 'application/json')).body.kind, 'ServiceList');
  const bad = await get('/api/v1/namespaces/default/services?includeObject=Everything', TABLE);
  assert.is(bad.status, 400);
  assert.equal([bad.body.kind, bad.body.reason, bad.body.message], ['Status', 'BadRequest', 'unrecognized includeObject value: "Everything"']);
});

test('a Table watch: one row per event, columnDefinitions on the first event only, a bookmark as the row of a bare object', async () => {
  const events = await watchEvents('/api/v1/namespaces/default/services?watch=1&allowWatchBookmarks=true&includeObject=None', 4);
  assert.equal(events.slice(0, 3).map((e) => e.type), ['ADDED', 'ADDED', 'ADDED']);
  assert.equal(events.slice(0, 3).map((e) => e.object.rows[0].cells[0]), ['a', 'b', 'kubernetes']);
  assert.ok(Array.isArray(events[0].object.columnDefinitions) && events[0].object.columnDefinitions.length === 7);
  assert.is(events[1].object.columnDefinitions, null);
  assert.is(events[1].object.rows[0].object, null, 'includeObject=None');
  assert.is(events[3].type, 'BOOKMARK');
  // Upstream prints the bookmark's bare object: no name, no type (so EXTERNAL-IP <unknown>), no ports, no age.
  const bookmark = events[3].object;
  assert.equal([bookmark.kind, bookmark.columnDefinitions, bookmark.rows.length], ['Table', null, 1]);
  assert.equal(bookmark.rows[0].cells, ['', '', '<none>', '<unknown>', '<none>', '<unknown>', '<none>']);
  assert.match(bookmark.metadata.resourceVersion, /^\d+$/);
});

test('a Table watch from a compacted resourceVersion gets the 410 Status itself', async () => {
  const [e] = await watchEvents('/api/v1/namespaces/default/services?watch=1&resourceVersion=1', 1);
  assert.is(e.type, 'ERROR');
  assert.equal([e.object.kind, e.object.code, e.object.reason], ['Status', 410, 'Expired']);
});

test.run();
