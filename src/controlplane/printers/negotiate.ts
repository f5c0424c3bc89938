// Which representation a GET asked for. kubectl get sends
//   Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json
// and the apiserver answers the first entry it can serve (upstream's
// negotiation.NegotiateOutputMediaType); a Table exists only in meta.k8s.io
// v1 and v1beta1. Everything else is answered with the plain JSON object.

export interface TableTarget {
  /** "meta.k8s.io/v1" or "meta.k8s.io/v1beta1": the Table's apiVersion. */
  apiVersion: string;
}

const TABLE_VERSIONS = new Set(['v1', 'v1beta1']);

function parseMediaType(text: string): { type: string; params: Map<string, string> } {
  const [type, ...rest] = text.split(';').map((s) => s.trim());
  const params = new Map<string, string>();
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0) params.set(p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { type: (type ?? '').toLowerCase(), params };
}

/** The Table the Accept header asks for, or undefined for the plain object. */
export function negotiateTable(accept: string | undefined): TableTarget | undefined {
  for (const entry of (accept ?? '').split(',')) {
    const { type, params } = parseMediaType(entry);
    if (!type) continue;
    const as = params.get('as');
    const jsonish = type === 'application/json' || type === '*/*' || type === 'application/*';
    if (!as) {
      // A plain JSON entry before any Table entry wins: the client prefers the object.
      if (jsonish) return undefined;
      continue;
    }
    // Protobuf tables and other conversions (PartialObjectMetadata) are not served: try the next entry.
    if (as !== 'Table' || !jsonish) continue;
    if (params.get('g') !== 'meta.k8s.io' || !TABLE_VERSIONS.has(params.get('v') ?? '')) continue;
    return { apiVersion: `meta.k8s.io/${params.get('v')}` };
  }
  return undefined;
}
