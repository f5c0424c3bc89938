// A request body read whole, with a size limit: the apiserver's routes and the
// auth reviews read bodies the same way (and refuse an oversized one the same way).
import type { IncomingMessage } from 'node:http';
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
