import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadObjects, parseObjects } from '../../src/lab/objects.ts';
import { LabFileError } from '../../src/util/errors.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function failure(text: string, file = 'objects.yaml'): LabFileError {
  try {
    parseObjects(text, file);
  } catch (e) {
    if (e instanceof LabFileError) return e;
    throw e;
  }
  throw new Error('parsed without an error');
}

test('multi-document YAML gives one object per document, skipping empty ones', async () => {
  const objects = await loadObjects(fixture('objects/multi.yaml'));
  assert.equal(objects.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata?.name}`), ['v1 Service/web', 'apps/v1 Deployment/web']);
});

test('a v1 List gives its items; fields svclab does not model pass through', () => {
  const objects = parseObjects(readFileSync(fixture('objects/list.yaml'), 'utf8'), 'list.yaml');
  assert.equal(objects.map((o) => o.kind), ['Namespace', 'EndpointSlice', 'ServiceCIDR']);
  assert.equal(objects[1].metadata?.labels, { 'kubernetes.io/service-name': 'external-db' });
});

test('an error in the second document has that document\'s line and the path inside the object', () => {
  const e = failure(readFileSync(fixture('objects/bad-port.yaml'), 'utf8'), 'bad-port.yaml');
  assert.is(e.file, 'bad-port.yaml');
  assert.is(e.line, 12);
  assert.is(e.path, 'spec.ports[0].port');
  assert.is(e.message, 'must be between 1 and 65535, inclusive');
});

test('an error in a List item is located under items[i]', () => {
  const e = failure(readFileSync(fixture('objects/bad-list-item.yaml'), 'utf8'));
  assert.is(e.line, 10);
  assert.is(e.path, 'items[1].metadata.name');
  assert.match(e.message, /^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
});

test('apiVersion must be the one serving the kind', () => {
  const e = failure('apiVersion: v1\nkind: Deployment\nmetadata: { name: web }\n');
  assert.is(e.line, 1);
  assert.is(e.path, 'apiVersion');
  assert.is(e.message, 'Deployment is served by apiVersion "apps/v1", not "v1"');
});

test('an unsupported kind lists the supported set', () => {
  const e = failure('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\n');
  assert.is(e.line, 2);
  assert.is(e.path, 'kind');
  assert.is(e.message,
    'unsupported kind "ConfigMap"; svclab understands: v1 Service, v1 Pod, v1 Namespace, apps/v1 Deployment, discovery.k8s.io/v1 EndpointSlice, networking.k8s.io/v1 ServiceCIDR');
});

test('metadata.name is required; the line is that of the parent mapping\'s key', () => {
  const e = failure('apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: { team: a }\n');
  assert.is(e.line, 3);
  assert.is(e.path, 'metadata.name');
  assert.is(e.message, 'missing required field "name"');
});

test('Service rules the apiserver enforces: ports named when several, nodePort only off ClusterIP', () => {
  let e = failure('apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  ports:\n    - port: 80\n    - port: 443\n');
  assert.is(e.path, 'spec.ports[0].name');
  assert.is(e.line, 6);
  assert.match(e.message, /^Required value/);
  e = failure('apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  ports:\n    - { port: 80, nodePort: 30080 }\n');
  assert.is(e.path, 'spec.ports[0].nodePort');
  assert.is(e.message, "Forbidden: may not be used when `type` is 'ClusterIP'");
});

test('an EndpointSlice address must match its addressType', () => {
  const e = failure('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4\nendpoints:\n  - addresses: ["fd00::1"]\n');
  assert.is(e.path, 'endpoints[0].addresses[0]');
  assert.is(e.line, 6);
  assert.is(e.message, 'Invalid value: "fd00::1": must be a valid IPv4 address');
});

test('a file with no objects, a scalar document, and a missing file are errors', async () => {
  assert.is(failure('---\n').message, 'no Kubernetes objects in this file');
  assert.is(failure('just text\n').message, 'expected a Kubernetes object (a mapping with apiVersion, kind, metadata)');
  try {
    await loadObjects(fixture('objects/none.yaml'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LabFileError);
    assert.match((e as LabFileError).message, /^cannot read the file: ENOENT/);
  }
});

test.run();
