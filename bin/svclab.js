#!/usr/bin/env node
// The installed entry point: the bundle built by `npm run build` (run by `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/svclab.mjs', import.meta.url));
if (!existsSync(bundle)) {
  console.error('svclab: dist/svclab.mjs is missing; run `npm run build` (npm ci does it) first.');
  process.exit(2);
}
await import(bundle);
