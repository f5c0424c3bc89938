import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFieldSelector, parseLabelSelector, labelSelectorMatcher, selectorString } from '../../src/controlplane/selectors.ts';
import { applyPatch } from '../../src/controlplane/patch.ts';
import { ApiError } from '../../src/controlplane/status.ts';

test('label selectors: equality, inequality, set-based and existence', () => {
  const l = { app: 'web', tier: 'front' };
  assert.ok(parseLabelSelector('')(l));
  assert.ok(parseLabelSelector('app=web')(l));
  assert.ok(parseLabelSelector('app==web,tier=front')(l));
  assert.not.ok(parseLabelSelector('app!=web')(l));
  assert.ok(parseLabelSelector('env!=prod')(l), '!= matches objects without the label');
  assert.ok(parseLabelSelector('tier in (front, back)')(l));
  assert.not.ok(parseLabelSelector('tier notin (front)')(l));
  assert.ok(parseLabelSelector('app,!env')(l));
  assert.not.ok(parseLabelSelector('env')(l));
  assert.throws(() => parseLabelSelector('app=(x'), (e: ApiError) => e.code === 400);
  assert.ok(labelSelectorMatcher({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] })(l));
  assert.is(selectorString({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] }), 'app=web,x');
});

test('field selectors: the fields the kubelet and kubectl use; unknown fields are a 400', () => {
  const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'node-01' }, status: { phase: 'Running' } };
  assert.ok(parseFieldSelector('spec.nodeName=node-01', 'Pod')(pod));
  assert.not.ok(parseFieldSelector('spec.nodeName=node-02', 'Pod')(pod));
  assert.ok(parseFieldSelector('metadata.name=p,status.phase!=Failed', 'Pod')(pod));
  assert.ok(parseFieldSelector('spec.nodeName=', 'Pod')({ metadata: { name: 'q' }, spec: {} }), 'unscheduled pods have an empty nodeName');
  assert.throws(() => parseFieldSelector('spec.nodeName=x', 'Service'), (e: ApiError) => e.code === 400 && /is not a known field selector/.test(e.message));
});

test('patches: merge, JSON and strategic (named lists merge by key)', () => {
  const d = { metadata: { labels: { a: '1', b: '2' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'x:1' }, { name: 'd', image: 'y:1' }] } } } };
  assert.equal(applyPatch(d, { metadata: { labels: { b: null, c: '3' } }, spec: { replicas: 3 } }, 'merge').metadata.labels, { a: '1', c: '3' });
  assert.equal(applyPatch(d, [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'add', path: '/metadata/labels/z', value: '9' }], 'json').spec.replicas, 5);
  const sm = applyPatch(d, { spec: { template: { spec: { containers: [{ name: 'd', image: 'y:2' }] } } } }, 'strategic');
  assert.equal(sm.spec.template.spec.containers, [{ name: 'c', image: 'x:1' }, { name: 'd', image: 'y:2' }]);
  const mp = applyPatch(d, { spec: { template: { spec: { containers: [{ name: 'd', image: 'y:2' }] } } } }, 'merge');
  assert.equal(mp.spec.template.spec.containers, [{ name: 'd', image: 'y:2' }], 'merge patch replaces lists');
  assert.throws(() => applyPatch(d, [{ op: 'test', path: '/spec/replicas', value: 2 }], 'json'), (e: ApiError) => e.code === 400);
});

test.run();
