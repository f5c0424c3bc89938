// The OpenAPI v3 documents the lab apiserver serves: /openapi/v3 lists one
// document per group-version, each holding the paths of its resources and the
// component schemas they reach (generated from kubernetes-types into
// schemas.json by scripts/gen-openapi.mjs). kubectl reads them for two things:
//  - validation: cli-runtime's queryParamVerifierV3 looks for a PATCH operation
//    whose x-kubernetes-group-version-kind is the manifest's GVK and that lists
//    the fieldValidation query parameter; found, kubectl leaves validation to the
//    server (`?fieldValidation=Strict`), else it wants /openapi/v2 for its own;
//  - `kubectl explain`: the component schema carrying the resource's GVK.
import { createHash } from 'node:crypto';
import { API_RESOURCES, apiVersionOf, KUBE_VERSION, type ApiResource } from '../resources.ts';
import schemaFile from './schemas.json' with { type: 'json' };

export type Schema = Record<string, any>;
export const SCHEMAS: Record<string, Schema> = schemaFile as Record<string, Schema>;

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

const REF = '#/components/schemas/';

const byGvk = new Map<string, string>();
for (const [id, s] of Object.entries(SCHEMAS)) {
  for (const g of (s['x-kubernetes-group-version-kind'] ?? []) as Gvk[]) byGvk.set(`${g.group}/${g.version}/${g.kind}`, id);
}

/** The component name of a kind ("io.k8s.api.core.v1.Service"), if the schemas hold it. */
export function schemaIdOf(gvk: Gvk): string | undefined {
  return byGvk.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

const SCALE: Gvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
const gvkOf = (r: ApiResource): Gvk => ({ group: r.group, version: r.version, kind: r.kind });

// Upstream's operationIds: verb + group + version + [Namespaced] + kind + suffix,
// e.g. patchCoreV1NamespacedServiceStatus, listAppsV1DeploymentForAllNamespaces.
function opPrefix(r: ApiResource): string {
  const g = r.group ? r.group.split('.')[0] : 'core';
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return `${cap(g)}${cap(r.version)}`;
}

const query = (name: string, type: string, description: string) => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });
const PARAMS = {
  dryRun: query('dryRun', 'string', 'When present, indicates that modifications should not be persisted. The only valid value is "All".'),
  fieldManager: query('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.'),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'How the server treats fields the schema does not know: Ignore drops them silently, Warn (the default) drops them with a Warning header each, Strict refuses the request with a BadRequest naming every one.',
  ),
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  labelSelector: query('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels.'),
  fieldSelector: query('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields.'),
  limit: query('limit', 'integer', 'The maximum number of responses to return for a list call.'),
  continue: query('continue', 'string', 'The continue token of a previous chunked list call.'),
  resourceVersion: query('resourceVersion', 'string', 'Sets a constraint on what resource versions a request may be served from.'),
  watch: query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'Requests watch events with type "BOOKMARK".'),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  propagationPolicy: query('propagationPolicy', 'string', 'Whether and how garbage collection will be performed: Orphan, Background or Foreground.'),
};
const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string', uniqueItems: true } });
const LIST_PARAMS = [PARAMS.allowWatchBookmarks, PARAMS.continue, PARAMS.fieldSelector, PARAMS.labelSelector, PARAMS.limit, PARAMS.resourceVersion, PARAMS.timeoutSeconds, PARAMS.watch];
const WRITE_PARAMS = [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation];
const DELETE_PARAMS = [PARAMS.dryRun, PARAMS.gracePeriodSeconds, PARAMS.propagationPolicy];

const json = (id: string) => ({ content: { 'application/json': { schema: { $ref: `${REF}${id}` } } } });
// The patch types the server applies. Strategic merge is applied too, but it is not
// listed: kubectl apply would then build its patch from these schemas, which carry no
// x-kubernetes-patch-merge-key (kubernetes-types does not know them) and so would
// replace lists such as spec.ports whole; unlisted, kubectl uses its compiled-in types.
const PATCH_BODY = {
  content: Object.fromEntries(['application/json-patch+json', 'application/merge-patch+json'].map((t) => [t, { schema: { $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.Patch` } }])),
  required: true,
};

function op(action: string, operationId: string, gvk: Gvk, id: string, parameters: object[], extra: object = {}): object {
  const ok = action === 'post' ? { '200': { description: 'OK', ...json(id) }, '201': { description: 'Created', ...json(id) } } : { '200': { description: 'OK', ...json(id) } };
  return { operationId, parameters, responses: { ...ok, '401': { description: 'Unauthorized' } }, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...extra };
}

/** The paths of one resource: collection, all-namespaces list, object, status and scale. */
function resourcePaths(r: ApiResource): Record<string, object> {
  const id = schemaIdOf(gvkOf(r))!;
  const listId = schemaIdOf({ ...gvkOf(r), kind: `${r.kind}List` })!;
  const gvk = gvkOf(r);
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const coll = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const ns = r.namespaced ? 'Namespaced' : '';
  const pre = opPrefix(r);
  const scope = r.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const named = [pathParam('name', `name of the ${r.kind}`), ...scope, PARAMS.pretty];
  const body = (i: string) => ({ requestBody: { ...json(i), required: true } });
  const paths: Record<string, object> = {
    [coll]: {
      parameters: [...scope, PARAMS.pretty],
      get: op('list', `list${pre}${ns}${r.kind}`, gvk, listId, LIST_PARAMS),
      post: op('post', `create${pre}${ns}${r.kind}`, gvk, id, WRITE_PARAMS, body(id)),
      delete: op('deletecollection', `deletecollection${pre}${ns}${r.kind}`, gvk, 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', [...DELETE_PARAMS, ...LIST_PARAMS]),
    },
    [`${coll}/{name}`]: {
      parameters: named,
      get: op('get', `read${pre}${ns}${r.kind}`, gvk, id, []),
      put: op('put', `replace${pre}${ns}${r.kind}`, gvk, id, WRITE_PARAMS, body(id)),
      patch: op('patch', `patch${pre}${ns}${r.kind}`, gvk, id, WRITE_PARAMS, { requestBody: PATCH_BODY }),
      delete: op('delete', `delete${pre}${ns}${r.kind}`, gvk, id, DELETE_PARAMS, { requestBody: json('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions') }),
    },
  };
  if (r.namespaced) paths[`${base}/${r.plural}`] = { parameters: [PARAMS.pretty], get: op('list', `list${pre}${r.kind}ForAllNamespaces`, gvk, listId, LIST_PARAMS) };
  if (r.hasStatus) {
    paths[`${coll}/{name}/status`] = {
      parameters: named,
      get: op('get', `read${pre}${ns}${r.kind}Status`, gvk, id, []),
      put: op('put', `replace${pre}${ns}${r.kind}Status`, gvk, id, WRITE_PARAMS, body(id)),
      patch: op('patch', `patch${pre}${ns}${r.kind}Status`, gvk, id, WRITE_PARAMS, { requestBody: PATCH_BODY }),
    };
  }
  if (r.kind === 'Deployment') {
    const scale = schemaIdOf(SCALE)!;
    paths[`${coll}/{name}/scale`] = {
      parameters: named,
      get: op('get', `read${pre}${ns}${r.kind}Scale`, SCALE, scale, []),
      put: op('put', `replace${pre}${ns}${r.kind}Scale`, SCALE, scale, WRITE_PARAMS, body(scale)),
      patch: op('patch', `patch${pre}${ns}${r.kind}Scale`, SCALE, scale, WRITE_PARAMS, { requestBody: PATCH_BODY }),
    };
  }
  return paths;
}

/** Every component a value refers to, transitively. */
function closure(start: unknown, into: Set<string>): Set<string> {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith(REF)) {
          const id = x.slice(REF.length);
          if (!into.has(id) && SCHEMAS[id]) {
            into.add(id);
            visit(SCHEMAS[id]);
          }
        } else visit(x);
      }
    }
  };
  visit(start);
  return into;
}

/** "api/v1", "apis/apps/v1": the keys of the /openapi/v3 discovery document. */
export function documentKey(groupVersion: string): string {
  return groupVersion.includes('/') ? `apis/${groupVersion}` : `api/${groupVersion}`;
}

/** The OpenAPI 3.0 document of one group-version, or undefined if none of its kinds is served. */
export function groupVersionDocument(groupVersion: string): Schema | undefined {
  const rs = API_RESOURCES.filter((r) => apiVersionOf(r) === groupVersion && schemaIdOf(gvkOf(r)));
  if (!rs.length) return undefined;
  const paths: Record<string, object> = Object.assign({}, ...rs.map(resourcePaths));
  const ids = closure(paths, new Set());
  const schemas: Record<string, Schema> = {
    // The PATCH body: any JSON, as upstream's meta/v1 Patch.
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
  };
  for (const id of [...ids].sort()) schemas[id] = SCHEMAS[id];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

interface Served {
  text: string;
  hash: string;
}
const cache = new Map<string, Served | null>();

/** The serialized document and its content hash (the ?hash= of its URL), built once. */
export function servedDocument(key: string): Served | undefined {
  if (!cache.has(key)) {
    const gv = key.replace(/^apis?\//, '');
    const doc = key === documentKey(gv) ? groupVersionDocument(gv) : undefined;
    const text = doc && JSON.stringify(doc);
    cache.set(key, text ? { text, hash: createHash('sha512').update(text).digest('hex').toUpperCase().slice(0, 128) } : null);
  }
  return cache.get(key) ?? undefined;
}

/** The /openapi/v3 discovery document: one relative URL with a content hash per group-version. */
export function discoveryDocument(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of [...new Set(API_RESOURCES.map(apiVersionOf))]) {
    const key = documentKey(gv);
    const served = servedDocument(key);
    if (served) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${served.hash}` };
  }
  return { paths };
}

// ---- /openapi/v2 (Swagger 2.0, JSON only) ----

const V2_REF = '#/definitions/';

/**
 * A component schema in Swagger 2.0 terms: refs point into #/definitions and sit
 * beside their description (2.0 has no allOf wrapping need), and the v3 oneOf
 * scalars take the single type upstream's v2 spec gives them.
 */
function toV2(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV2);
  if (!s || typeof s !== 'object') return s;
  const o = s as Schema;
  if (Array.isArray(o.allOf) && o.allOf.length === 1 && o.allOf[0].$ref) {
    const { allOf, ...rest } = o;
    return { ...(toV2(rest) as Schema), $ref: (allOf[0].$ref as string).replace(REF, V2_REF) };
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace(REF, V2_REF);
    else if (k === 'oneOf') out.type = 'string';
    else out[k] = toV2(v);
  }
  return out;
}

/** A v3 operation as a v2 one: query parameters typed inline, the request body a `body` parameter. */
function operationToV2(op: Schema): Schema {
  const { parameters = [], requestBody, responses, ...rest } = op;
  const params = (parameters as Schema[]).map(({ schema, ...p }) => ({ ...p, type: schema.type, ...(schema.uniqueItems ? { uniqueItems: true } : {}) }));
  const bodySchema = requestBody && Object.values(requestBody.content as Record<string, Schema>)[0].schema;
  if (bodySchema) params.unshift({ name: 'body', in: 'body', required: requestBody.required ?? false, schema: toV2(bodySchema) } as never);
  const v2Responses = Object.fromEntries(
    Object.entries(responses as Record<string, Schema>).map(([code, r]) => [code, { description: r.description, ...(r.content ? { schema: toV2(Object.values(r.content as Record<string, Schema>)[0].schema) } : {}) }]),
  );
  return {
    ...rest,
    ...(requestBody ? { consumes: Object.keys(requestBody.content) } : {}),
    produces: ['application/json'],
    parameters: params,
    responses: v2Responses,
  };
}

let v2Text: string | undefined;

/** The whole API as one Swagger 2.0 document, as upstream's /openapi/v2 (JSON). */
export function swaggerDocument(): string {
  if (v2Text === undefined) {
    const paths: Record<string, Schema> = {};
    const ids = new Set<string>();
    for (const gv of [...new Set(API_RESOURCES.map(apiVersionOf))]) {
      const doc = groupVersionDocument(gv);
      if (!doc) continue;
      for (const id of Object.keys(doc.components.schemas)) ids.add(id);
      for (const [path, item] of Object.entries(doc.paths as Record<string, Schema>)) {
        const out: Schema = {};
        for (const [k, v] of Object.entries(item)) out[k] = k === 'parameters' ? (v as Schema[]).map(({ schema, ...p }) => ({ ...p, type: schema.type, uniqueItems: true })) : operationToV2(v as Schema);
        paths[path] = out;
      }
    }
    const definitions: Record<string, unknown> = {
      'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
    };
    for (const id of [...ids].sort()) if (SCHEMAS[id]) definitions[id] = toV2(SCHEMAS[id]);
    v2Text = JSON.stringify({ swagger: '2.0', info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion }, paths, definitions });
  }
  return v2Text;
}
