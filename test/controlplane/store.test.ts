import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Store, type KObj, type StoreEvent } from '../../src/controlplane/store.ts';
import { ApiError } from '../../src/controlplane/status.ts';

const pod = (name: string, extra: Record<string, unknown> = {}): KObj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [] }, ...extra });

test('resourceVersion is one global counter; uid, creationTimestamp and generation are set', () => {
  const s = new Store({ now: () => new Date('2025-01-02T03:04:05.678Z') });
  const a = s.create(pod('a'));
  const b = s.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
  assert.is(a.metadata.resourceVersion, '1');
  assert.is(b.metadata.resourceVersion, '2');
  assert.is(a.metadata.creationTimestamp, '2025-01-02T03:04:05Z');
  assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.is(a.metadata.generation, 1);
  assert.is(b.metadata.generation, undefined);
  assert.is(s.list('Pod').resourceVersion, '2');
});

test('generation moves with the spec, not with status; no-op writes are dropped', () => {
  const s = new Store();
  const a = s.create(pod('a'));
  const st = s.update({ ...a, status: { phase: 'Running' } });
  assert.is(st.metadata.generation, 1);
  const sp = s.update({ ...st, spec: { containers: [{ name: 'c' }] } });
  assert.is(sp.metadata.generation, 2);
  assert.is(s.update(sp), sp, 'an identical write returns the stored object');
  assert.is(s.resourceVersion, 3);
});

test('stale resourceVersion is a 409 Conflict; stored objects are frozen', () => {
  const s = new Store();
  const a = s.create(pod('a'));
  s.update({ ...a, status: { phase: 'Running' } }, a.metadata.resourceVersion);
  assert.throws(() => s.update({ ...a, status: { phase: 'Failed' } }, a.metadata.resourceVersion), (e: ApiError) =>
    e.code === 409 && e.status.message === 'Operation cannot be fulfilled on pods "a": the object has been modified; please apply your changes to the latest version and try again');
  assert.throws(() => s.create(pod('a')), (e: ApiError) => e.status.message === 'pods "a" already exists');
  assert.throws(() => s.delete('Pod', 'default', 'zz'), (e: ApiError) => e.status.message === 'pods "zz" not found');
  assert.throws(() => {
    (s.get('Pod', 'default', 'a')!.metadata as { name: string }).name = 'x';
  });
});

test('watch from a resourceVersion replays the kept events in order, then follows', () => {
  const s = new Store();
  const a = s.create(pod('a'));
  s.update({ ...a, status: { phase: 'Running' } });
  s.delete('Pod', 'default', 'a');
  const seen: string[] = [];
  const stop = s.watch('Pod', Number(a.metadata.resourceVersion) - 1, (e: StoreEvent) => seen.push(`${e.type} ${e.object.metadata.name}@${e.rv}`));
  s.create(pod('b'));
  stop();
  s.create(pod('c'));
  assert.equal(seen, ['ADDED a@1', 'MODIFIED a@2', 'DELETED a@3', 'ADDED b@4']);
});

test('a watch older than the kept history is 410 Expired', () => {
  const s = new Store({ historyLimit: 2 });
  for (const n of ['a', 'b', 'c', 'd']) s.create(pod(n));
  assert.throws(() => s.watch('Pod', 1, () => {}), (e: ApiError) => e.code === 410 && e.reason === 'Expired' && e.status.message === 'too old resource version: 1 (2)');
  const seen: number[] = [];
  s.watch('Pod', 2, (e) => seen.push(e.rv))();
  assert.equal(seen, [3, 4]);
});

test('a restored store keeps objects and the counter; older watches must relist', () => {
  const s = new Store();
  s.create(pod('a'));
  s.create(pod('b'));
  const t = new Store();
  t.restore(JSON.parse(JSON.stringify(s.snapshot())));
  assert.is(t.resourceVersion, 2);
  assert.equal(t.list('Pod').items.map((o) => o.metadata.name), ['a', 'b']);
  assert.throws(() => t.watch('Pod', 1, () => {}), (e: ApiError) => e.code === 410);
  assert.throws(() => t.watch('Pod', 5, () => {}), (e: ApiError) => e.code === 410, 'a version from the future too');
  t.watch('Pod', 2, () => {})();
  assert.is(t.create(pod('c')).metadata.resourceVersion, '3');
});

test.run();
