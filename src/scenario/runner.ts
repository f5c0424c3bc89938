// Runs a lab's scenario in order: steps change the lab, assertions retry until
// their timeout. One line per item as it finishes, then a summary. A failed
// step stops the scenario (what follows depends on it); a failed assertion
// does not. Items are the schema's unions (src/lab/schema.ts), parsed with
// their defaults; what each kind does is in items.ts.
import type { ScenarioItem } from '../lab/schema.ts';
import { seedVars, type ScenarioContext } from './context.ts';
import { retryUntil } from './retry.ts';
import { CheckFailed } from '../util/errors.ts';
import { paint, sym } from '../util/output.ts';
import { isAssertion, itemKind, runAssertion, runStep } from './items.ts';
import { itemTitle } from './item-title.ts';

export interface ItemResult {
  index: number;
  kind: 'step' | 'assert';
  type: string;
  name: string;
  status: 'pass' | 'fail' | 'skip';
  message: string;
  seconds: number;
  attempts: number;
}

export interface ScenarioResult {
  lab: string;
  mode: string;
  items: ItemResult[];
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  /** Time to bring the lab up, when this run did it. */
  setupSeconds?: number;
}

export interface RunOptions {
  lab: string;
  /** Apply steps' files are relative to it. */
  labFile: string;
  out?: NodeJS.WriteStream;
  /** No lines, only the result. */
  quiet?: boolean;
}

// Assertions are tried again this often until their timeout: rules converge within a sync period.
const RETRY_INTERVAL_MS = 1000;

export async function runScenario(ctx: ScenarioContext, items: readonly ScenarioItem[], opts: RunOptions): Promise<ScenarioResult> {
  const out = opts.out ?? process.stdout;
  seedVars(ctx);
  const results: ItemResult[] = [];
  const t0 = Date.now();
  let stopped = false;
  for (const [index, item] of items.entries()) {
    const head: Pick<ItemResult, 'index' | 'kind' | 'type' | 'name'> = { index, kind: isAssertion(item) ? 'assert' : 'step', type: itemKind(item), name: itemTitle(item) };
    const why = item.modes && !item.modes.some((m) => m === ctx.mode)
      ? `not run in ${ctx.mode} mode (only ${item.modes.join(', ')})`
      : stopped ? 'skipped: an earlier step failed' : undefined;
    if (why !== undefined) {
      results.push({ ...head, status: 'skip', message: why, seconds: 0, attempts: 0 });
      if (!opts.quiet) out.write(`${sym.skip()} ${head.name} ${paint('gray', `(${why})`, out)}\n`);
      continue;
    }
    const result = { ...head, ...(await runItem(ctx, item, opts.labFile)) };
    if (result.status === 'fail' && result.kind === 'step') stopped = true;
    results.push(result);
    if (!opts.quiet) printResult(out, result);
  }
  const count = (status: ItemResult['status']) => results.filter((r) => r.status === status).length;
  return { lab: opts.lab, mode: ctx.mode, items: results, passed: count('pass'), failed: count('fail'), skipped: count('skip'), seconds: (Date.now() - t0) / 1000 };
}

type Outcome = Pick<ItemResult, 'status' | 'message' | 'seconds' | 'attempts'>;

/** A step runs once; an assertion is retried until its timeout (scaled by the driver's timeScale). */
async function runItem(ctx: ScenarioContext, item: ScenarioItem, labFile: string): Promise<Outcome> {
  const start = Date.now();
  const seconds = () => (Date.now() - start) / 1000;
  try {
    if (!isAssertion(item)) return { status: 'pass', message: await runStep(ctx, item, labFile), seconds: seconds(), attempts: 1 };
    const timeoutMs = item.timeout * 1000 * (ctx.timeScale ?? 1);
    const r = await retryUntil(timeoutMs, () => runAssertion(ctx, item), RETRY_INTERVAL_MS);
    return { status: 'pass', message: r.value, seconds: seconds(), attempts: r.attempts };
  } catch (err) {
    const message = (err as Error).message;
    // An assertion that threw something other than CheckFailed did not get to check (a report's "error").
    const broken = isAssertion(item) && !(err instanceof CheckFailed);
    return { status: 'fail', message: broken ? `error: ${message}` : message, seconds: seconds(), attempts: 1 };
  }
}

function printResult(out: NodeJS.WriteStream, r: ItemResult): void {
  const mark = r.status === 'pass' ? sym.ok() : sym.fail();
  const timing = paint('gray', `(${r.seconds.toFixed(1)}s${r.attempts > 1 ? `, ${r.attempts} tries` : ''})`, out);
  out.write(`${mark} ${r.kind === 'step' ? paint('cyan', 'step', out) + ' ' : ''}${r.name} ${timing}\n`);
  if (r.message) out.write(`    ${r.status === 'fail' ? paint('red', r.message, out) : paint('gray', r.message, out)}\n`);
}
