// The exercise file format (apiVersion svclab.dev/v1alpha1, kind Exercise): a
// lab to start from, steps that break it, the task a learner reads, hidden
// checks (scenario assertions, each with a hint for when it fails) and a
// reference solution (scenario steps: the verbs a learner would use).
import { z } from 'zod';
import type { util } from 'zod/v4/core';
import { oneOf } from '../lab/fields.ts';
import { dns1123LabelError, invalidValue } from '../k8s/names.ts';
import { AssertSchema, LAB_NAME_MAX, StepSchema } from '../lab/schema.ts';
import { PROXY_MODES } from '../k8s/proxy-mode.ts';

// The exercise's name is its lab's name by default, hence a short DNS label.
const exerciseName = z.string().superRefine((v, ctx) => {
  const why = dns1123LabelError(v, LAB_NAME_MAX);
  if (why) ctx.addIssue({ code: 'custom', message: invalidValue(v, why) });
});

const hint = z.string().min(1).describe('Shown when the check fails: where to look, not the answer.');

type Hinted<T> = T extends z.ZodObject<infer Shape, infer Config> ? z.ZodObject<util.Extend<Shape, { hint: typeof hint }>, Config> : never;
type HintedAll<T extends readonly z.ZodObject[]> = { -readonly [K in keyof T]: Hinted<T[K]> };

// Array.map loses a tuple's positions; the mapped type puts them back, so each
// check keeps its assertion's own fields.
function withHints<T extends readonly [z.ZodObject, ...z.ZodObject[]]>(options: T): HintedAll<T> {
  return options.map((o) => o.extend({ hint })) as HintedAll<T>;
}

// Every assertion kind, each with a required hint.
export const CheckSchema = z.discriminatedUnion('assert', withHints(AssertSchema.options));

export const ExerciseSchema = z.strictObject({
  apiVersion: z.literal('svclab.dev/v1alpha1'),
  kind: z.literal('Exercise'),
  metadata: z.strictObject({
    name: exerciseName.optional().describe("Default: the file's name without extension. Also the name the lab runs under."),
    title: z.string().min(1).describe('One line, for `svclab exercise list`.'),
    description: z.string().optional(),
  }),
  lab: z.string().min(1).describe('The lab file it starts from, relative to this file.'),
  mode: oneOf(PROXY_MODES, 'proxy mode').optional().describe("Run the lab in this proxy mode instead of its proxy.mode."),
  break: z.array(StepSchema).default(() => []).describe('Steps run after the lab is up: the starting state the learner must fix.'),
  task: z.string().min(1).describe('What the learner reads; ${labName} and ${exercise} are filled in.'),
  checks: z.array(CheckSchema).min(1),
  solution: z.array(StepSchema).min(1).describe('The reference solution, as scenario steps.'),
});

export type ExerciseSpec = z.output<typeof ExerciseSchema>;
export type Check = ExerciseSpec['checks'][number];
