// Writes schema/lab.schema.json from src/lab/json-schema.ts and
// schema/exercise.schema.json from src/exercise/json-schema.ts.
//   node --import tsx scripts/gen-lab-schema.ts
import { writeFileSync } from 'node:fs';
import { renderLabJsonSchema } from '../src/lab/json-schema.ts';
import { renderExerciseJsonSchema } from '../src/exercise/json-schema.ts';

writeFileSync(new URL('../schema/lab.schema.json', import.meta.url), renderLabJsonSchema());
console.log('wrote schema/lab.schema.json');
writeFileSync(new URL('../schema/exercise.schema.json', import.meta.url), renderExerciseJsonSchema());
console.log('wrote schema/exercise.schema.json');
