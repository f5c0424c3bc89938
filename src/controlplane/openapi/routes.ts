// The /openapi routes of the lab apiserver. /openapi/v3 and its documents are
// served as JSON, as kubectl asks for them; a document asked for with its
// current ?hash= may be cached for good (upstream's `Cache-Control: public,
// immutable`), one asked for without it or with a stale hash must be revalidated.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discoveryDocument, servedDocument } from './spec.ts';

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
