// Where the svclab bundle is: nodes run their daemons from this one file
// (dist/svclab.mjs). Found relative to this module, from source or bundle.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../util/errors.ts';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'svclab') return dir;
    dir = dirname(dir);
  }
  throw new EnvironmentError('cannot find the svclab package root');
}

export function bundlePath(): string {
  const p = join(repoRoot(), 'dist', 'svclab.mjs');
  if (!existsSync(p)) throw new EnvironmentError(`${p} is missing`, 'run `npm run build` (npm ci does it) first');
  return p;
}
