// Loads an exercise file: YAML -> schema -> its lab (loaded under the
// exercise's name, in its mode) -> the break steps, checks and solution
// checked against that lab the way a lab's own scenario is. Every problem is a
// LabFileError with file, line and field path before anything is created.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseWith } from '../lab/issues.ts';
import { checkSteps, defaultLabName, loadLab, type Lab } from '../lab/load.ts';
import { dns1123LabelError, invalidValue } from '../k8s/names.ts';
import { checkScenario } from '../lab/scenario-check.ts';
import { LAB_NAME_MAX, type Step } from '../lab/schema.ts';
import { parseYaml } from '../lab/source.ts';
import { LabFileError } from '../util/errors.ts';
import { ExerciseSchema, type Check } from './schema.ts';

export interface Exercise {
  file: string;
  name: string;
  title: string;
  description?: string;
  task: string;
  /** The lab as the exercise runs it: its name (the exercise's, or --lab-name) and mode. */
  lab: Lab;
  breakSteps: Step[];
  checks: Check[];
  solution: Step[];
  warnings: string[];
}

export interface ExerciseLoadOptions {
  /** Run the lab under this name (a test's private copy); default: the exercise's name. */
  labName?: string;
}

export async function loadExercise(file: string, opts: ExerciseLoadOptions = {}): Promise<Exercise> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LabFileError(`cannot read the exercise file: ${(e as Error).message}`, file);
  }
  return parseExercise(text, file, opts);
}

export async function parseExercise(text: string, file: string, opts: ExerciseLoadOptions = {}): Promise<Exercise> {
  const src = parseYaml(text, file);
  const data = src.data();
  if (data === null || data === undefined) throw new LabFileError('the exercise file is empty (it needs apiVersion: svclab.dev/v1alpha1, kind: Exercise, metadata.title, lab, task, checks and solution)', file, 1);
  const spec = parseWith(ExerciseSchema, data, src);

  const name = spec.metadata.name ?? defaultLabName(file);
  if (spec.metadata.name === undefined) {
    const why = dns1123LabelError(name, LAB_NAME_MAX);
    if (why) throw src.error(['metadata', 'name'], `${invalidValue(name, why)} (the name comes from the file name; set metadata.name)`);
  }
  const labFile = resolve(dirname(file), spec.lab);
  if (!existsSync(labFile)) throw src.error(['lab'], `the lab file ${labFile} does not exist (lab: is relative to this exercise file)`);
  // The lab's own problems are told at the lab file's lines.
  const lab = await loadLab(labFile, { mode: spec.mode, name: opts.labName ?? name });

  // Steps' apply files are relative to the exercise file, like its lab: path.
  const here: Lab = { ...lab, file };
  const broken = checkSteps(here, spec.break, src, 'break');
  const solved = checkSteps(here, spec.solution, src, 'solution');
  const known = [...lab.spec.manifests, ...broken.placed.map((p) => p.object), ...solved.placed.map((p) => p.object)];
  const warnings = [...broken.warnings, ...solved.warnings];
  for (const [key, items] of [['break', spec.break], ['checks', spec.checks], ['solution', spec.solution]] as const) {
    warnings.push(...checkScenario(lab.spec, lab.layout, src, known, key, items));
  }
  return {
    file,
    name,
    title: spec.metadata.title,
    description: spec.metadata.description,
    task: spec.task,
    lab,
    breakSteps: spec.break,
    checks: spec.checks,
    solution: spec.solution,
    warnings,
  };
}

/** The task as the learner reads it: ${labName} and ${exercise} filled in. */
export function taskText(ex: Exercise): string {
  return ex.task.replace(/\$\{(labName|exercise)\}/g, (_, v: string) => (v === 'labName' ? ex.lab.name : ex.name)).trimEnd();
}
