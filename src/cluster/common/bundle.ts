// Where the svclab bundle (dist/svclab.mjs) is, as the host sees it: nodes run
// their daemons from it. Bundled, this module *is* that file; from source it
// is src/cluster/common/bundle.ts, three levels below the repository.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function defaultBundle(): string {
  const self = fileURLToPath(import.meta.url);
  return self.endsWith('.mjs') ? self : join(dirname(self), '..', '..', '..', 'dist', 'svclab.mjs');
}
