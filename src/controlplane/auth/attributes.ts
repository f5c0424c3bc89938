// What a request asks to do, as upstream's RequestInfo
// (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): a resource request
// (verb, API group, resource, subresource, namespace, name) or a
// non-resource one (verb and path). Worked out from the path alone, before
// routing, so a user who may not do something is refused the same way
// whether or not the resource exists.
export interface ResourceAttributes {
  resourceRequest: true;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface NonResourceAttributes {
  resourceRequest: false;
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

const HTTP_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

// Subresources of a Namespace itself (/api/v1/namespaces/<ns>/status), as upstream's namespaceSubresources.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function requestAttributes(method: string, pathname: string, query: URLSearchParams): RequestAttributes {
  const lower = (HTTP_VERBS[method] ?? method.toLowerCase());
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group = '', version = '', rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return { resourceRequest: false, verb: lower, path: pathname };
  }
  let verb = lower;
  if (rest[0] === 'watch') {
    verb = 'watch';
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  const [resource = '', name = '', subresource = ''] = rest;
  // A GET without a name is a list, or a watch when asked; a DELETE without one a deletecollection.
  if (!name && verb === 'get') verb = query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
  else if (name && verb === 'get' && (query.get('watch') === 'true' || query.get('watch') === '1')) verb = 'watch';
  if (!name && verb === 'delete') verb = 'deletecollection';
  return { resourceRequest: true, verb, group, version, resource, subresource, namespace, name };
}
