// Writes schema/lab.schema.json from src/lab/json-schema.ts.
//   node --import tsx scripts/gen-lab-schema.ts
import { writeFileSync } from 'node:fs';
import { renderLabJsonSchema } from '../src/lab/json-schema.ts';

writeFileSync(new URL('../schema/lab.schema.json', import.meta.url), renderLabJsonSchema());
console.log('wrote schema/lab.schema.json');
