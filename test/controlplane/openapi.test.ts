// The OpenAPI documents and server-side field validation on the wire, without
// kubectl: what /openapi/v3 lists, what kubectl's queryParamVerifierV3 and
// `explain` read from a group-version document, and the fieldValidation
// directives with upstream's texts. kubectl-openapi.test.ts drives the real client.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestServer, stopTestServer, type TestServer } from './helpers.ts';
import { unknownFields } from '../../src/controlplane/openapi/field-validation.ts';

let s: TestServer | undefined;

test.before(async () => {
  s = await startTestServer();
});
test.after(async () => {
  await stopTestServer(s);
});

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${s!.url}${path}`);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function send(method: string, path: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; warnings: string | null; body: any }> {
  const res = await fetch(`${s!.url}${path}`, { method, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
  return { status: res.status, warnings: res.headers.get('warning'), body: await res.json() };
}

const service = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } });

test('schemas.json is what scripts/gen-openapi.mjs derives from kubernetes-types today', () => {
  const fresh = execFileSync(process.execPath, ['scripts/gen-openapi.mjs', '--stdout'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.ok(fresh === readFileSync('src/controlplane/openapi/schemas.json', 'utf8'), 'stale: run node scripts/gen-openapi.mjs and commit the file');
});

test('/openapi/v3 lists one document per served group-version, each with a content hash', async () => {
  const { status, body } = await get('/openapi/v3');
  assert.is(status, 200);
  assert.equal(Object.keys(body.paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1']);
  assert.match(body.paths['api/v1'].serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
});

test('a document asked for by its hash is immutable; a stale hash must be revalidated; an unknown one is 404', async () => {
  const url = (await get('/openapi/v3')).body.paths['apis/apps/v1'].serverRelativeURL as string;
  const fresh = await get(url);
  assert.is(fresh.status, 200);
  assert.is(fresh.headers.get('cache-control'), 'public, immutable');
  assert.is(fresh.body.openapi, '3.0.0');
  assert.is((await get('/openapi/v3/apis/apps/v1?hash=0')).headers.get('cache-control'), 'no-cache, private');
  assert.is((await get('/openapi/v3/apis/batch/v1')).status, 404);
});

test('every PATCH operation names its GVK and the fieldValidation query parameter (what kubectl checks to validate server-side)', async () => {
  for (const key of ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1']) {
    const doc = (await get(`/openapi/v3/${key}`)).body;
    const patches = Object.entries(doc.paths as Record<string, any>).filter(([, item]) => item.patch);
    assert.ok(patches.length > 0, key);
    for (const [path, item] of patches) {
      assert.ok(item.patch['x-kubernetes-group-version-kind']?.kind, `${path} GVK`);
      assert.ok(item.patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'), `${path} fieldValidation`);
    }
  }
  const core = (await get('/openapi/v3/api/v1')).body;
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/services/{name}'].patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Service' });
  const apps = (await get('/openapi/v3/apis/apps/v1')).body;
  assert.equal(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
});

test('components carry upstream definition names, GVKs, required fields, descriptions, and every $ref resolves', async () => {
  const doc = (await get('/openapi/v3/api/v1')).body;
  const schemas = doc.components.schemas as Record<string, any>;
  assert.equal(schemas['io.k8s.api.core.v1.Service']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Service', version: 'v1' }]);
  const port = schemas['io.k8s.api.core.v1.ServicePort'];
  assert.equal(port.required, ['port']);
  assert.is(port.properties.port.type, 'integer');
  assert.match(port.properties.port.description, /The port that will be exposed by this service/);
  assert.equal(port.properties.targetPort.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }]);
  assert.equal(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.is(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
  assert.equal(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
  assert.is(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  assert.equal(schemas['io.k8s.api.core.v1.ServiceSpec'].properties.selector, {
    additionalProperties: { type: 'string' },
    description: schemas['io.k8s.api.core.v1.ServiceSpec'].properties.selector.description,
    type: 'object',
  });
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[^"]+/g) ?? [];
  for (const ref of new Set(refs)) assert.ok(schemas[ref.slice('#/components/schemas/'.length)], `${ref} resolves`);
  const net = (await get('/openapi/v3/apis/networking.k8s.io/v1')).body.components.schemas;
  assert.equal(net['io.k8s.api.networking.v1.ServiceCIDR']['x-kubernetes-group-version-kind'], [{ group: 'networking.k8s.io', kind: 'ServiceCIDR', version: 'v1' }]);
});

test('unknown fields are named by their path in document order, array indexes included; a patch may carry nulls and $ directives', () => {
  const gvk = { group: '', version: 'v1', kind: 'Service' };
  assert.equal(unknownFields(gvk, service('a', { bogus: 1, ports: [{ port: 80 }, { port: 81, nope: true }] })), ['spec.ports[1].nope', 'spec.bogus']);
  assert.equal(unknownFields(gvk, { metadata: { labels: { anything: 'x' }, nam: 'typo' } }), ['metadata.nam']);
  assert.equal(unknownFields(gvk, { spec: { $setElementOrder: [], gone: null, ports: [{ $patch: 'delete', port: 80 }] } }, { patch: true }), []);
});

test('fieldValidation=Strict refuses a create with upstream text; Warn creates with a Warning header; Ignore says nothing', async () => {
  const strict = await send('POST', '/api/v1/namespaces/default/services?fieldValidation=Strict', service('strict', { bogus: 1 }));
  assert.is(strict.status, 400);
  assert.is(strict.body.reason, 'BadRequest');
  assert.is(strict.body.message, 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.bogus"');
  const warn = await send('POST', '/api/v1/namespaces/default/services', service('warn', { bogus: 1, ports: [{ port: 80, extra: 2 }] }));
  assert.is(warn.status, 201);
  assert.is(warn.warnings, '299 - "unknown field \\"spec.ports[0].extra\\"", 299 - "unknown field \\"spec.bogus\\""');
  const ignore = await send('POST', '/api/v1/namespaces/default/services?fieldValidation=Ignore', service('ignore', { bogus: 1 }));
  assert.is(ignore.status, 201);
  assert.is(ignore.warnings, null);
  const bad = await send('POST', '/api/v1/namespaces/default/services?fieldValidation=Loud', service('loud', {}));
  assert.is(bad.status, 400);
  assert.is(bad.body.message, 'fieldValidation: Unsupported value: "Loud": supported values: "Ignore", "Strict", "Warn"');
});

test('Strict applies to updates (400) and merge/strategic patches (upstream\'s 422 with the patch as the invalid value); a patch that only deletes an unknown field passes', async () => {
  const created = (await send('POST', '/api/v1/namespaces/default/services', service('patched', {}))).body;
  const put = await send('PUT', '/api/v1/namespaces/default/services/patched?fieldValidation=Strict', { ...created, spec: { ...created.spec, bogus: true } });
  assert.is(put.status, 400);
  assert.is(put.body.message, 'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.bogus"');
  const merge = await send('PATCH', '/api/v1/namespaces/default/services/patched?fieldValidation=Strict', { spec: { bogus: 1 } }, 'application/merge-patch+json');
  assert.is(merge.status, 422);
  assert.is(merge.body.reason, 'Invalid');
  // The patched object as JSON, quoted: upstream's jsonPatcher names the result, not the patch.
  assert.match(merge.body.message, /^ "" is invalid: patch: Invalid value: "\{\\"apiVersion\\":\\"v1\\",.*\\"bogus\\":1.*\}": strict decoding error: unknown field "spec.bogus"$/);
  assert.equal(merge.body.details.causes.map((c: any) => [c.reason, c.field]), [['FieldValueInvalid', 'patch']]);
  const strategic = await send('PATCH', '/api/v1/namespaces/default/services/patched?fieldValidation=Strict', { spec: { bogus: 1, ports: [{ port: 80, x: 'y' }] } }, 'application/strategic-merge-patch+json');
  assert.is(strategic.status, 422);
  assert.is(strategic.body.message, ' "" is invalid: patch: Invalid value: "map[spec:map[bogus:1 ports:[map[port:80 x:y]]]]": strict decoding error: unknown field "spec.bogus", unknown field "spec.ports[0].x"');
  const ok = await send('PATCH', '/api/v1/namespaces/default/services/patched?fieldValidation=Strict', { metadata: { labels: { tier: 'web' } }, spec: { retired: null } }, 'application/strategic-merge-patch+json');
  assert.is(ok.status, 200);
  assert.is(ok.body.metadata.labels.tier, 'web');
  const warned = await send('PATCH', '/api/v1/namespaces/default/services/patched', { spec: { bogus: 1 } }, 'application/merge-patch+json');
  assert.is(warned.status, 200);
  assert.is(warned.warnings, '299 - "unknown field \\"spec.bogus\\""');
});

test('the scale subresource is checked against autoscaling/v1 Scale', async () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop' }, spec: { replicas: 1, selector: { matchLabels: { app: 'shop' } }, template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
  assert.is((await send('POST', '/apis/apps/v1/namespaces/default/deployments', d)).status, 201);
  const scale = await send('PATCH', '/apis/apps/v1/namespaces/default/deployments/shop/scale?fieldValidation=Strict', { spec: { replicas: 2, extra: 1 } }, 'application/strategic-merge-patch+json');
  assert.is(scale.status, 422);
  assert.is(scale.body.message, ' "" is invalid: patch: Invalid value: "map[spec:map[extra:1 replicas:2]]": strict decoding error: unknown field "spec.extra"');
  assert.is((await send('PATCH', '/apis/apps/v1/namespaces/default/deployments/shop/scale?fieldValidation=Strict', { spec: { replicas: 2 } }, 'application/merge-patch+json')).status, 200);
});

test('/openapi/v2 is Swagger 2.0 JSON for JSON clients and a bare 406 for a protobuf-only Accept (what kubectl sends)', async () => {
  const pb = await fetch(`${s!.url}/openapi/v2`, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  assert.is(pb.status, 406);
  assert.is(await pb.text(), '');
  const res = await fetch(`${s!.url}/openapi/v2`, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json' } });
  assert.is(res.status, 200);
  const doc = (await res.json()) as Record<string, any>;
  assert.is(doc.swagger, '2.0');
  const port = doc.definitions['io.k8s.api.core.v1.ServicePort'];
  assert.is(port.properties.targetPort.$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.match(port.properties.targetPort.description, /Number or name of the port/);
  assert.equal(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
  assert.equal(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, 'string');
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.equal(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(patch.parameters.map((p: any) => `${p.in}:${p.name}`), ['body:body', 'query:dryRun', 'query:fieldManager', 'query:fieldValidation']);
  const refs = JSON.stringify(doc).match(/#\/definitions\/[^"]+/g) ?? [];
  for (const ref of new Set(refs)) assert.ok(doc.definitions[ref.slice('#/definitions/'.length)], `${ref} resolves`);
  assert.not.match(JSON.stringify(doc), '#/components/');
});

test.run();
