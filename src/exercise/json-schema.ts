// The exercise format as JSON Schema, for editors (yaml-language-server).
// schema/exercise.schema.json is generated from this by
// `node --import tsx scripts/gen-lab-schema.ts`; a test keeps the two equal.
import { z } from 'zod';
import { ExerciseSchema } from './schema.ts';

export function exerciseJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ExerciseSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: 'svclab Exercise (svclab.dev/v1alpha1)',
    description: 'A lab to start from, steps that break it, the task, hidden checks with hints, and a reference solution.',
    ...rest,
  };
}

export function renderExerciseJsonSchema(): string {
  return `${JSON.stringify(exerciseJsonSchema(), null, 2)}\n`;
}
