// Turns zod's issues into one LabFileError a person can act on: plain words
// ("missing required field", "unknown field ... allowed fields: ..."), the
// exact line, and the field path. Union failures are narrowed to the branch
// the user meant (the one whose `step:`/`assert:`/`kind:` they wrote).
import type { z } from 'zod';
import type { LabFileError } from '../util/errors.ts';
import type { Path, YamlSource } from './source.ts';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

function describe(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return `the string ${JSON.stringify(v)}`;
    case 'number': return `the number ${v}`;
    case 'boolean': return `${v}`;
    case 'object': return 'a mapping';
    default: return typeof v;
  }
}

const EXPECTED: Record<string, string> = {
  number: 'a number', int: 'an integer', string: 'a string', boolean: 'true or false',
  object: 'a mapping', array: 'a list', record: 'a mapping',
};

const last = (path: readonly PropertyKey[]) => String(path[path.length - 1] ?? '');

/**
 * The per-parse error map: every message not set by a schema itself. A schema's
 * own `error` (proxy mode, image, names) wins over this, as zod orders them.
 */
export function messageFor(iss: RawIssue): string | undefined {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type':
      if (input === undefined) return `missing required field ${JSON.stringify(last(iss.path ?? []))}`;
      if (iss.expected === 'int' && typeof input === 'number') return `expected an integer, got ${input}`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(input)}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
      const allowed = shape ? `; allowed fields: ${Object.keys(shape).join(', ')}` : '';
      return `unknown field ${JSON.stringify(iss.keys[0])}${allowed}`;
    }
    case 'invalid_value':
      if (input === undefined) return `missing required field ${JSON.stringify(last(iss.path ?? []))}`;
      if (iss.values.length === 1) return `must be ${JSON.stringify(iss.values[0])}, not ${JSON.stringify(input)}`;
      return `${JSON.stringify(input)} is not one of: ${iss.values.map(String).join(', ')}`;
    case 'invalid_union': {
      const disc = (iss as { discriminator?: string }).discriminator;
      const options = (iss as { options?: unknown[] }).options ?? [];
      if (!disc) return undefined;
      const value = (input as Record<string, unknown> | undefined)?.[disc];
      const list = options.map(String).join(', ');
      if (value === undefined) return `missing required field ${JSON.stringify(disc)} (one of: ${list})`;
      return `unknown ${disc} ${JSON.stringify(value)}; valid ${disc}s: ${list}`;
    }
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'array') return `must have at least ${min} item${min === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
      return iss.inclusive ? `must be at least ${min}, not ${input}` : `must be greater than ${min}, not ${input}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'array') return `must have at most ${max} item${max === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return `must be no more than ${max} characters`;
      return iss.inclusive ? `must be at most ${max}, not ${input}` : `must be less than ${max}, not ${input}`;
    }
    case 'invalid_format':
      return `${JSON.stringify(input)} is not in the expected format`;
    default:
      return undefined;
  }
}

interface Located {
  path: Path;
  message: string;
}

const isDiscriminatorMiss = (i: Issue) => i.code === 'invalid_union' && 'discriminator' in i && (i as { note?: string }).note !== undefined;

function valueAt(data: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, seg) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined), data);
}

// Flattens an issue to the ones worth reporting, with full paths.
function flatten(issue: Issue, data: unknown, base: Path): Located[] {
  const path = [...base, ...(issue.path as (string | number)[])];
  if (issue.code === 'unrecognized_keys') return [{ path: [...path, issue.keys[0]], message: issue.message }];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, message: issue.message }];
  // A union of discriminated unions (scenario items: `step:` or `assert:`): keep
  // the branches whose discriminator the user actually wrote.
  const here = valueAt(data, path) as Record<string, unknown> | undefined;
  const meant = issue.errors.filter(
    (branch) => !branch.every((i) => isDiscriminatorMiss(i) && here?.[(i as { discriminator: string }).discriminator] === undefined),
  );
  if (meant.length === 0) {
    const alts = issue.errors.flatMap((b) => b.filter(isDiscriminatorMiss)).map((i) => {
      const d = i as unknown as { discriminator: string; options: unknown[] };
      return `"${d.discriminator}" (${d.options.join(', ')})`;
    });
    return [{ path, message: `needs either ${alts.join(' or ')}` }];
  }
  return meant[0].flatMap((i) => flatten(i, data, path));
}

/** Parses `data` with `schema`; on failure throws the first problem in the file's order. */
export function parseWith<T>(schema: z.ZodType<T>, data: unknown, source: YamlSource): T {
  const result = schema.safeParse(data, { error: messageFor });
  if (result.success) return result.data;
  throw toLabFileError(result.error.issues, data, source);
}

export function toLabFileError(issues: Issue[], data: unknown, source: YamlSource): LabFileError {
  const found = issues.flatMap((i) => flatten(i, data, []));
  // The first problem in reading order is the one to fix first.
  const withLine = found.map((f, order) => ({ ...f, order, line: source.line(f.path) }));
  withLine.sort((a, b) => a.line - b.line || a.order - b.order);
  const first = withLine[0];
  return source.error(first.path, first.message);
}
