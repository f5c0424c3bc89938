// The REST layout the lab apiserver serves: which kinds live under which group,
// version and plural, and how a request path names a resource. One table, read
// by the router, the error texts (`deployments.apps "x" not found`) and the client.
import { RESOURCES } from '../k8s/objects.ts';

export interface ApiResource {
  kind: string;
  /** "" for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  /** Has a /status subresource: the main PUT keeps the old status, /status keeps the old spec. */
  hasStatus: boolean;
  shortNames: string[];
}

function entry(kind: string, shortNames: string[], hasStatus: boolean, extra?: Partial<ApiResource>): ApiResource {
  const r = (RESOURCES as Record<string, { apiVersion: string; plural: string; namespaced: boolean }>)[kind];
  const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
  return { kind, group, version, plural: r.plural, singular: kind.toLowerCase(), namespaced: r.namespaced, hasStatus, shortNames, ...extra };
}

export const API_RESOURCES: ApiResource[] = [
  entry('Namespace', ['ns'], true),
  entry('Node', ['no'], true),
  entry('Service', ['svc'], true),
  entry('Pod', ['po'], true),
  // v1 Endpoints, kept in step with the EndpointSlices for `describe`-style readers.
  { kind: 'Endpoints', group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', namespaced: true, hasStatus: false, shortNames: ['ep'] },
  entry('Deployment', ['deploy'], true),
  entry('EndpointSlice', [], false),
  entry('ServiceCIDR', [], true),
];

const byKind = new Map(API_RESOURCES.map((r) => [r.kind, r]));

export function resourceFor(kind: string): ApiResource {
  const r = byKind.get(kind);
  if (!r) throw new Error(`unknown kind ${kind}`);
  return r;
}

export function apiVersionOf(r: ApiResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Upstream's GroupResource.String(): "pods", "deployments.apps". */
export function qualifiedResource(r: ApiResource): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** Upstream's GroupKind.String(): "Service", "Deployment.apps". */
export function qualifiedKind(r: ApiResource): string {
  return r.group ? `${r.kind}.${r.group}` : r.kind;
}

/** REST path of a kind: the collection without a name, one object with it. */
export function resourcePath(kind: string, namespace?: string, name?: string, subresource?: string): string {
  const r = resourceFor(kind);
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name ? `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}` : '';
  return `${base}${ns}/${r.plural}${obj}`;
}

export interface ParsedPath {
  resource: ApiResource;
  /** Set when the path names a namespace (or the object is a Namespace). */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The deprecated /api/v1/watch/... form. */
  watchPrefix: boolean;
}

/**
 * Splits a request path into resource, namespace, name and subresource, or
 * returns undefined when it is not a resource path this server knows.
 *   /api/v1/namespaces/default/services/web/status
 *   /apis/apps/v1/deployments
 *   /api/v1/namespaces/kube-system        (the Namespace object itself)
 */
export function parseResourcePath(pathname: string): ParsedPath | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group = '', version: string, rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const find = (plural: string) => API_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
  // "namespaces/<ns>/<plural>..." is a namespaced resource; "namespaces[/<name>[/sub]]" is the Namespace kind.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const r = find(rest[2]);
    if (r && r.namespaced) {
      if (rest.length > 5) return undefined;
      return { resource: r, namespace: rest[1], name: rest[3], subresource: rest[4], watchPrefix };
    }
    // Otherwise only /api/v1/namespaces/<name>/<subresource> (status, finalize) remains.
    if (!(group === '' && rest.length === 3)) return undefined;
  }
  const r = find(rest[0] ?? '');
  if (!r || rest.length > 3) return undefined;
  return { resource: r, name: rest[1], subresource: rest[2], watchPrefix };
}

/** The Kubernetes version the lab apiserver claims (/version, node info): ServiceCIDR v1 and nftables GA are 1.33. */
export const KUBE_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0' } as const;
