// The /openapi routes of the lab apiserver. /openapi/v3 and its documents are
// served as JSON, as kubectl asks for them; a document asked for with its
// current ?hash= may be cached for good (upstream's `Cache-Control: public,
// immutable`), one asked for without it or with a stale hash must be revalidated.
// /openapi/v2 is served as JSON only. kubectl asks for it solely as gnostic
// protobuf and gets a bare 406, as kube-openapi's handler answers an Accept it
// cannot meet; kubectl then computes apply's strategic merge patch from its
// compiled-in types (which know the list merge keys these schemas lack) and
// validates through the server (fieldValidation, found in /openapi/v3).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discoveryDocument, servedDocument, swaggerDocument } from './spec.ts';

function send(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Answers an /openapi request; false when the path is not one (the caller's 404). */
export function serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/openapi/v3') {
    send(res, 200, JSON.stringify(discoveryDocument()), { 'Cache-Control': 'no-cache, private' });
    return true;
  }
  if (path === '/openapi/v2') {
    const accept = req.headers.accept ?? '';
    if (accept && !/(^|[\s,])(application\/json|application\/\*|\*\/\*)(\s*;[^,]*)?(\s*,|$)/.test(accept)) {
      res.writeHead(406, { 'Content-Length': '0' });
      res.end();
      return true;
    }
    send(res, 200, swaggerDocument(), { 'Cache-Control': 'no-cache, private' });
    return true;
  }
  const key = path.match(/^\/openapi\/v3\/(apis?\/.+)$/)?.[1];
  const doc = key ? servedDocument(key) : undefined;
  if (!doc) return false;
  const etag = `"${doc.hash}"`;
  const cache = query.get('hash') === doc.hash ? 'public, immutable' : 'no-cache, private';
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': cache });
    res.end();
    return true;
  }
  send(res, 200, doc.text, { ETag: etag, 'Cache-Control': cache });
  return true;
}
