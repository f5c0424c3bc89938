// A request body read whole, with a size limit: the apiserver's routes and the
// auth reviews read bodies the same way (and refuse an oversized one the same way).
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest } from './status.ts';

/** Upstream's apiserver refuses request bodies over 3 MiB. */
export const MAX_BODY = 3 * 1024 * 1024;

export function readBodyBytes(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(badRequest('request entity too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A JSON or YAML body (by Content-Type) as upstream decodes it; empty → undefined; undecodable → 400. */
export function parseTextBody(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return /yaml/.test(contentType ?? '') ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
}
