// Where exercises are: a path to a file, or a name in the exercises/
// directory of the svclab package ($SVCLAB_EXERCISES overrides it).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lifecycle/bundle.ts';
import { EnvironmentError } from '../util/errors.ts';

export function exercisesDir(): string {
  return process.env.SVCLAB_EXERCISES ?? join(repoRoot(), 'exercises');
}

/** The exercise files of a directory, sorted by name. */
export function exerciseFiles(dir = exercisesDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/** "selector-mismatch" or "exercises/selector-mismatch.yaml" -> the file. */
export function findExercise(arg: string): string {
  if (/\.ya?ml$/.test(arg) || arg.includes('/')) {
    if (!existsSync(arg)) throw new EnvironmentError(`no exercise file ${arg}`);
    return arg;
  }
  const dir = exercisesDir();
  for (const ext of ['.yaml', '.yml']) if (existsSync(join(dir, arg + ext))) return join(dir, arg + ext);
  const names = exerciseFiles(dir).map((f) => f.slice(dir.length + 1).replace(/\.ya?ml$/, ''));
  throw new EnvironmentError(`no exercise named "${arg}" in ${dir}`, names.length ? `exercises: ${names.join(', ')} (svclab exercise list)` : 'give the path of an exercise file');
}
