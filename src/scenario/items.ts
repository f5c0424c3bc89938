// What each kind of scenario item does: one exhaustive switch per union of
// src/lab/schema.ts, so a step or assertion kind added to the schema and not
// handled here is a compile error, not an "unknown item" at run time.
import type { Assertion, ScenarioItem, Step } from '../lab/schema.ts';
import type { ScenarioContext } from './context.ts';
import { checkAnswer, stepAnswer } from './assertions/answers.ts';
import { checkDns, checkExec, checkServiceIP, checkSourceIP } from './assertions/basic.ts';
import { checkObject, checkRangesDisjoint } from './assertions/objects.ts';
import { checkProxyRules } from './assertions/proxy-rules.ts';
import { checkReach, checkUnreachable } from './assertions/reach.ts';
import { CheckFailed } from '../util/errors.ts';
import { stepApply, stepDelete, stepReconfigure, stepScale, stepWait } from './steps.ts';

/** Runs one step once; its message says what it did. Throws when it failed. */
export async function runStep(ctx: ScenarioContext, step: Step, labFile: string): Promise<string> {
  switch (step.step) {
    case 'apply': return stepApply(ctx, step, labFile);
    case 'delete': return stepDelete(ctx, step);
    case 'scale': return stepScale(ctx, step);
    case 'exec': return checkExec(ctx, step);
    case 'wait': return stepWait(ctx, step);
    case 'answer': return stepAnswer(ctx, step);
    case 'reconfigure': return stepReconfigure(ctx, step);
    default: return unhandled(step);
  }
}

/** Checks one assertion once (the runner retries); its message says what it saw. Throws when it does not hold. */
export async function runAssertion(ctx: ScenarioContext, assertion: Assertion): Promise<string> {
  switch (assertion.assert) {
    case 'service-ip': return checkServiceIP(ctx, assertion);
    case 'proxy-rules': return checkProxyRules(ctx, assertion);
    case 'dns': return checkDns(ctx, assertion);
    case 'reach': return checkReach(ctx, assertion);
    case 'unreachable': return checkUnreachable(ctx, assertion);
    case 'exec': return checkExec(ctx, assertion);
    case 'source-ip': return checkSourceIP(ctx, assertion);
    case 'object': return checkObject(ctx, assertion);
    case 'answer': return checkAnswer(ctx, assertion);
    case 'ranges-disjoint': return checkRangesDisjoint(ctx);
    default: return unhandled(assertion);
  }
}

export const isAssertion = (item: ScenarioItem): item is Assertion => 'assert' in item;

/** The kind an item names: "reach", "apply", … (the report's `type`). */
export const itemKind = (item: ScenarioItem): string => (isAssertion(item) ? item.assert : item.step);

/** The default of an exhaustive switch: reached only by data that skipped the schema; the `never` makes a missing case a compile error. */
export function unhandled(item: never): never {
  throw new CheckFailed(`unknown scenario item ${JSON.stringify(item)}`);
}
