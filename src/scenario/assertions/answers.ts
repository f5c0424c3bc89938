// Answer files: what a learner found out (the service CIDR, the proxy mode, a
// chain's name), one file per key in the lab's answers/ directory. An
// `answer` step writes one — with a value, or taken from a command's output
// the way a learner would find it — and an `answer` assertion compares it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeIP, ipFamily, parseCidr, cidrString } from '../../util/cidr.ts';
import type { AssertionOf, StepOf } from '../../lab/schema.ts';
import type { ScenarioContext } from '../context.ts';
import { expand, resolveTarget, runIn } from '../context.ts';
import { retryUntil } from '../retry.ts';
import { CheckFailed } from '../../util/errors.ts';

function answersDir(ctx: ScenarioContext): string {
  if (!ctx.answersDir) throw new CheckFailed('this run has no answers directory (answers belong to a lab that is up)');
  return ctx.answersDir;
}

export function answerPath(dir: string, key: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(key)) throw new CheckFailed(`"${key}" is not an answer name (lowercase letters, digits, ".", "_" and "-")`);
  return join(dir, key);
}

export async function writeAnswer(dir: string, key: string, value: string): Promise<string> {
  const path = answerPath(dir, key);
  await mkdir(dir, { recursive: true });
  await writeFile(path, `${value.trim()}\n`);
  return path;
}

/** `timeout`: seconds to keep looking for a `from` answer. */
export type AnswerStepSpec = Pick<StepOf<'answer'>, 'key' | 'value' | 'from' | 'timeout'>;

export async function stepAnswer(ctx: ScenarioContext, spec: AnswerStepSpec): Promise<string> {
  const value = await answerValue(ctx, spec);
  await writeAnswer(answersDir(ctx), spec.key, value);
  return `answer ${spec.key}: ${value.trim()}`;
}

async function answerValue(ctx: ScenarioContext, spec: AnswerStepSpec): Promise<string> {
  if (spec.value !== undefined) return expand(ctx, spec.value);
  const { from } = spec;
  // src/lab/scenario-check.ts already makes a lab file give one of the two.
  if (!from) throw new CheckFailed(`the answer step for "${spec.key}" has neither value: nor from:`);
  return (await retryUntil(spec.timeout * 1000, () => findAnswer(ctx, from), 500)).value;
}

// Looked for again until found: right after a change the rules may still be converging.
async function findAnswer(ctx: ScenarioContext, from: NonNullable<AnswerStepSpec['from']>): Promise<string> {
  const target = await resolveTarget(ctx, from.on);
  const argv = from.command.map((a) => expand(ctx, a));
  const r = await runIn(target, argv);
  if (r.code !== 0) throw new CheckFailed(`\`${argv.join(' ')}\` in ${target.label} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  if (!from.match) return r.stdout;
  const m = r.stdout.match(new RegExp(expand(ctx, from.match), 'm'));
  if (!m) throw new CheckFailed(`output of \`${argv.join(' ')}\` in ${target.label} does not match /${from.match}/`);
  return m[1] ?? m[0];
}

/** Answers compare trimmed; CIDRs and IPs by value (10.96.0.0/12 == 10.96.0.000/12 is not a goal, but IPv6 spellings are). */
export function sameAnswer(got: string, want: string, list = false): boolean {
  const a = got.trim();
  const b = want.trim();
  if (list) {
    const words = (s: string) => [...new Set(s.split(/[\s,]+/).filter(Boolean))].sort().join(' ');
    return words(a) === words(b);
  }
  if (a === b) return true;
  try {
    if (b.includes('/')) return cidrString(parseCidr(a)) === cidrString(parseCidr(b));
    if (ipFamily(a) && ipFamily(b)) return normalizeIP(a) === normalizeIP(b);
  } catch {
    return false;
  }
  return false;
}

export type AnswerCheckSpec = Pick<AssertionOf<'answer'>, 'key' | 'equals' | 'matches' | 'list' | 'save'>;

export async function checkAnswer(ctx: ScenarioContext, spec: AnswerCheckSpec): Promise<string> {
  const path = answerPath(answersDir(ctx), spec.key);
  let got: string;
  try {
    got = (await readFile(path, 'utf8')).trim();
  } catch {
    throw new CheckFailed(`no answer "${spec.key}" yet (${path} does not exist)`);
  }
  if (!got) throw new CheckFailed(`the answer "${spec.key}" is empty`);
  if (spec.equals !== undefined) {
    const want = expand(ctx, spec.equals);
    if (!sameAnswer(got, want, spec.list)) throw new CheckFailed(`the answer "${spec.key}" is ${JSON.stringify(got)}, which is not right`);
  }
  if (spec.matches !== undefined && !new RegExp(expand(ctx, spec.matches)).test(got)) {
    throw new CheckFailed(`the answer "${spec.key}" is ${JSON.stringify(got)}, which does not look right`);
  }
  if (spec.save) ctx.vars.set(spec.save, got);
  return `answer ${spec.key}: ${got}`;
}
