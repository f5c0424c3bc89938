// Runs a lab's scenario in order: steps change the lab, assertions retry until
// their timeout. One line per item as it finishes, then a summary. A failed
// step stops the scenario (what follows depends on it); a failed assertion
// does not.
import { seedVars, type ScenarioContext } from './context.ts';
import { retryUntil } from './retry.ts';
import { CheckFailed } from '../util/errors.ts';
import { paint, sym } from '../util/output.ts';
import { checkReach, checkUnreachable } from './assertions/reach.ts';
import { checkDns, checkExec, checkServiceIP, checkSourceIP } from './assertions/basic.ts';
import { checkProxyRules } from './assertions/proxy-rules.ts';
import { stepApply, stepDelete, stepScale, stepWait } from './steps.ts';
import { checkObject, checkRangesDisjoint } from './assertions/objects.ts';
import { checkAnswer, stepAnswer } from './assertions/answers.ts';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Item = Record<string, any> & { step?: string; assert?: string; name?: string; timeout?: number; modes?: string[] };

const DEFAULT_ASSERT_TIMEOUT_S = 30;

export function itemTitle(item: Item): string {
  // A delete step's `name` is the object's name, not a title.
  if (item.step === 'delete') return `delete ${item.kind.toLowerCase()}/${item.name}`;
  if (item.assert === 'object') {
    const fields = Object.entries(item.fields ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    return `${item.kind.toLowerCase()}/${item.name}${fields ? ` has ${fields}` : ' exists'}`;
  }
  if (item.name) return item.name;
  if (item.step === 'reconfigure') {
    const changes = [...Object.entries(item.cluster ?? {}).map(([k, v]) => (k === 'nodes' ? 'node ranges' : `${k} ${v}`)), item.proxy?.mode && `proxy mode ${item.proxy.mode}`];
    return `rebuild the lab with ${changes.filter(Boolean).join(', ')}`;
  }
  if (item.step === 'answer') return `answer ${item.key}`;
  if (item.assert === 'answer') return `answer ${item.key}`;
  const t = item.assert ?? item.step ?? '?';
  const bits = [item.service, item.to && `→ ${item.to}`, item.deployment && `${item.deployment}=${item.replicas}`, item.kind && `${item.kind}/${item.name ?? ''}`]
    .filter(Boolean)
    .join(' ');
  const from = item.from ? ` from ${item.from.pod ? `pod ${item.from.pod}` : item.from.node ?? 'external'}` : '';
  return `${t}${bits ? ` ${bits}` : ''}${from}${item.absent ? ' (absent)' : ''}${item.endpoints !== undefined ? ` (${item.endpoints} endpoints)` : ''}`;
}

async function runItem(ctx: ScenarioContext, item: Item, labFile: string): Promise<string> {
  switch (item.assert) {
    case 'service-ip': return checkServiceIP(ctx, item as never);
    case 'proxy-rules': return checkProxyRules(ctx, item as never);
    case 'dns': return checkDns(ctx, item as never);
    case 'reach': return checkReach(ctx, item as never);
    case 'unreachable': return checkUnreachable(ctx, item as never);
    case 'exec': return checkExec(ctx, { ...item, on: item.on } as never);
    case 'source-ip': return checkSourceIP(ctx, item as never);
    case 'object': return checkObject(ctx, item as never);
    case 'answer': return checkAnswer(ctx, item as never);
    case 'ranges-disjoint': return checkRangesDisjoint(ctx);
  }
  switch (item.step) {
    case 'apply': return stepApply(ctx, item as never, labFile);
    case 'delete': return stepDelete(ctx, item as never);
    case 'scale': return stepScale(ctx, item as never);
    case 'exec': return checkExec(ctx, { ...item, on: item.on } as never);
    case 'wait': return stepWait(ctx, item as never);
    case 'answer': return stepAnswer(ctx, item as never);
    case 'reconfigure': return stepReconfigure(ctx, item);
  }
  throw new CheckFailed(`unknown scenario item ${JSON.stringify(item)}`);
}

async function stepReconfigure(ctx: ScenarioContext, item: Item): Promise<string> {
  if (!ctx.rebuild) throw new CheckFailed('a reconfigure step rebuilds the lab, which only `svclab run` and `svclab exercise` can do');
  const { summary, ...parts } = await ctx.rebuild({ cluster: item.cluster, proxy: item.proxy });
  Object.assign(ctx, parts);
  seedVars(ctx);
  return summary;
}

export async function runScenario(
  ctx: ScenarioContext,
  items: Item[],
  opts: { lab: string; labFile: string; out?: NodeJS.WriteStream; quiet?: boolean },
): Promise<ScenarioResult> {
  const out = opts.out ?? process.stdout;
  seedVars(ctx);
  const results: ItemResult[] = [];
  const t0 = Date.now();
  let stopped = false;
  for (const [index, item] of items.entries()) {
    const kind = item.assert ? 'assert' : 'step';
    const name = itemTitle(item);
    const start = Date.now();
    if (item.modes && !item.modes.includes(ctx.mode)) {
      const why = `not run in ${ctx.mode} mode (only ${item.modes.join(', ')})`;
      results.push({ index, kind, type: item.assert ?? item.step ?? '', name, status: 'skip', message: why, seconds: 0, attempts: 0 });
      if (!opts.quiet) out.write(`${sym.skip()} ${name} ${paint('gray', `(${why})`, out)}\n`);
      continue;
    }
    if (stopped) {
      results.push({ index, kind, type: item.assert ?? item.step ?? '', name, status: 'skip', message: 'skipped: an earlier step failed', seconds: 0, attempts: 0 });
      if (!opts.quiet) out.write(`${sym.skip()} ${name} ${paint('gray', '(skipped: an earlier step failed)', out)}\n`);
      continue;
    }
    const timeoutMs = (item.timeout ?? (kind === 'assert' ? DEFAULT_ASSERT_TIMEOUT_S : 120)) * 1000 * (ctx.timeScale ?? 1);
    let status: ItemResult['status'] = 'pass';
    let message = '';
    let attempts = 1;
    try {
      if (kind === 'assert') {
        const r = await retryUntil(timeoutMs, () => runItem(ctx, item, opts.labFile), 1000);
        message = r.value;
        attempts = r.attempts;
      } else message = await runItem(ctx, item, opts.labFile);
    } catch (err) {
      status = 'fail';
      message = (err as Error).message;
      if (kind === 'step') stopped = true;
      if (!(err instanceof CheckFailed) && kind === 'assert') message = `error: ${message}`;
    }
    const seconds = (Date.now() - start) / 1000;
    results.push({ index, kind, type: item.assert ?? item.step ?? '', name, status, message, seconds, attempts });
    if (!opts.quiet) {
      const mark = status === 'pass' ? sym.ok() : sym.fail();
      const timing = paint('gray', `(${seconds.toFixed(1)}s${attempts > 1 ? `, ${attempts} tries` : ''})`, out);
      out.write(`${mark} ${kind === 'step' ? paint('cyan', 'step', out) + ' ' : ''}${name} ${timing}\n`);
      if (message) out.write(`    ${status === 'fail' ? paint('red', message, out) : paint('gray', message, out)}\n`);
    }
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  return { lab: opts.lab, mode: ctx.mode, items: results, passed, failed, skipped, seconds: (Date.now() - t0) / 1000 };
}
