// Reports for a course's CI: TAP 14, JUnit XML, JSON — from scenario results.
import { writeFile } from 'node:fs/promises';
import { EnvironmentError } from '../util/errors.ts';
import type { ScenarioResult } from './runner.ts';

export function toTap(results: ScenarioResult[]): string {
  const items = results.flatMap((r) => r.items.map((i) => ({ r, i })));
  const lines = ['TAP version 14', `1..${items.length}`];
  items.forEach(({ r, i }, n) => {
    const desc = `${r.lab} [${r.mode}] ${i.kind === 'step' ? 'step ' : ''}${i.name}`.replace(/#/g, '\\#');
    const ok = i.status !== 'fail';
    lines.push(`${ok ? 'ok' : 'not ok'} ${n + 1} - ${desc}${i.status === 'skip' ? ` # SKIP ${i.message}` : ''}`);
    if (i.status === 'fail') {
      lines.push('  ---', `  message: ${JSON.stringify(i.message)}`, `  duration_ms: ${Math.round(i.seconds * 1000)}`, `  attempts: ${i.attempts}`, '  ...');
    }
  });
  return lines.join('\n') + '\n';
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function toJUnit(results: ScenarioResult[]): string {
  const suites = results.map((r) => {
    const cases = r.items.map((i) => {
      const body = i.status === 'fail'
        ? `<failure message="${xml(i.message.split('\n')[0])}" type="${i.kind === 'step' ? 'StepFailed' : 'AssertionFailed'}">${xml(i.message)}</failure>`
        : i.status === 'skip' ? `<skipped message="${xml(i.message)}"/>` : '';
      return `    <testcase classname="${xml(`${r.lab}.${r.mode}`)}" name="${xml(`${i.index + 1}. ${i.name}`)}" time="${i.seconds.toFixed(3)}">${body}</testcase>`;
    });
    return [
      `  <testsuite name="${xml(`${r.lab} (${r.mode})`)}" tests="${r.items.length}" failures="${r.failed}" skipped="${r.skipped}" errors="0" time="${r.seconds.toFixed(3)}">`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  const total = results.reduce((a, r) => a + r.items.length, 0);
  const failures = results.reduce((a, r) => a + r.failed, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="svclab" tests="${total}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export function toJson(results: ScenarioResult[]): string {
  return JSON.stringify({ results, passed: results.every((r) => r.failed === 0) }, null, 2) + '\n';
}

/** "--report tap:FILE" (also junit:, json:). */
export async function writeReport(spec: string, results: ScenarioResult[]): Promise<void> {
  const i = spec.indexOf(':');
  const format = i > 0 ? spec.slice(0, i) : '';
  const file = spec.slice(i + 1);
  const render = { tap: toTap, junit: toJUnit, json: toJson }[format];
  if (!render || !file) throw new EnvironmentError(`--report ${spec}: expected tap:FILE, junit:FILE or json:FILE`);
  await writeFile(file, render(results));
}
