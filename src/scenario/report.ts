// Reports for a course's CI: TAP 14, JUnit XML, JSON — from scenario results.
// One scenario run (a lab in one proxy mode) is one TAP subtest and one JUnit
// <testsuite>, so a matrix run (labs × modes) keeps its shape in both.
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { EnvironmentError } from '../util/errors.ts';
import type { ItemResult, ScenarioResult } from './runner.ts';

export const REPORT_FORMATS = ['tap', 'junit', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const isReportFormat = (s: string): s is ReportFormat => (REPORT_FORMATS as readonly string[]).includes(s);

// ---- TAP 14 (testanything.org/tap-version-14-specification) ----

/** A test point description: one line, with `\` and `#` escaped as TAP 14 requires. */
function tapText(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\\/g, '\\\\').replace(/#/g, '\\#').trim();
}

/** A YAML diagnostic block, indented two spaces past its test point. */
function tapDiagnostic(data: Record<string, unknown>, indent: string): string[] {
  const body = toYaml(data, { lineWidth: 0 }).trimEnd().split('\n');
  return [`${indent}  ---`, ...body.map((l) => `${indent}  ${l}`), `${indent}  ...`];
}

function tapItem(i: ItemResult, n: number, indent: string): string[] {
  const desc = tapText(`${i.kind === 'step' ? 'step ' : ''}${i.name}`);
  if (i.status === 'skip') return [`${indent}ok ${n} - ${desc} # SKIP ${tapText(i.message)}`];
  if (i.status === 'pass') return [`${indent}ok ${n} - ${desc}`];
  return [
    `${indent}not ok ${n} - ${desc}`,
    ...tapDiagnostic({ message: i.message, severity: i.kind === 'step' || i.message.startsWith('error: ') ? 'error' : 'fail', type: i.type, duration_ms: Math.round(i.seconds * 1000), attempts: i.attempts }, indent),
  ];
}

/**
 * TAP 14: each scenario run is a subtest (4-space indented, announced by a
 * "# Subtest:" comment) closed by one test point for the run as a whole.
 */
export function toTap(results: ScenarioResult[]): string {
  const lines = ['TAP version 14', `1..${results.length}`];
  results.forEach((r, k) => {
    const title = tapText(`${r.lab} [${r.mode}]`);
    lines.push(`# Subtest: ${title}`, `    1..${r.items.length}`);
    r.items.forEach((i, n) => lines.push(...tapItem(i, n + 1, '    ')));
    const summary = `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped in ${r.seconds.toFixed(1)}s`;
    lines.push(`${r.failed ? 'not ok' : 'ok'} ${k + 1} - ${title}${r.items.length === 0 ? ' # SKIP the lab has no scenario' : ''}`);
    if (r.failed) lines.push(...tapDiagnostic({ message: summary }, ''));
  });
  return lines.join('\n') + '\n';
}

// ---- JUnit XML (the Ant/Jenkins/GitLab dialect: testsuites > testsuite > testcase) ----

// XML 1.0 allows only tab, LF, CR and the printable ranges; command output can
// carry ANSI escapes or NULs, which would make the whole report unparsable.
/* eslint-disable no-control-regex */
const ANSI = /\u001B\[[0-9;]*[A-Za-z]/g;
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
/* eslint-enable no-control-regex */
const xmlText = (s: string) => s.replace(ANSI, '').replace(XML_INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlAttr = (s: string) => xmlText(s).replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

/**
 * JUnit's split: a <failure> is a check that ran and found the wrong thing; an
 * <error> is something that kept the check from running (a step that failed,
 * an assertion that threw).
 */
export function junitOutcome(i: ItemResult): 'pass' | 'failure' | 'error' | 'skipped' {
  if (i.status === 'pass') return 'pass';
  if (i.status === 'skip') return 'skipped';
  return i.kind === 'assert' && !i.message.startsWith('error: ') ? 'failure' : 'error';
}

function junitCase(r: ScenarioResult, i: ItemResult): string {
  const open = `    <testcase classname="${xmlAttr(`${r.lab}.${r.mode}`)}" name="${xmlAttr(`${i.index + 1}. ${i.kind === 'step' ? 'step ' : ''}${i.name}`)}" time="${i.seconds.toFixed(3)}"`;
  const outcome = junitOutcome(i);
  const firstLine = i.message.split('\n')[0];
  switch (outcome) {
    case 'failure':
      return `${open}>\n      <failure message="${xmlAttr(firstLine)}" type="AssertionFailed">${xmlText(i.message)}</failure>\n    </testcase>`;
    case 'error':
      return `${open}>\n      <error message="${xmlAttr(firstLine)}" type="${i.kind === 'step' ? 'StepFailed' : 'AssertionError'}">${xmlText(i.message)}</error>\n    </testcase>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${xmlAttr(i.message)}"/>\n    </testcase>`;
    default:
      return i.message ? `${open}>\n      <system-out>${xmlText(i.message)}</system-out>\n    </testcase>` : `${open}/>`;
  }
}

const count = (r: ScenarioResult, o: ReturnType<typeof junitOutcome>) => r.items.filter((i) => junitOutcome(i) === o).length;

/** `now` only feeds the timestamps (tests pass a fixed one). */
export function toJUnit(results: ScenarioResult[], now = new Date()): string {
  // A run's start is its end minus its duration; the XSD wants local time without a zone.
  const stamp = (r: ScenarioResult) => new Date(now.getTime() - r.seconds * 1000).toISOString().slice(0, 19);
  const host = xmlAttr(hostname());
  const suites = results.map((r, k) =>
    [
      `  <testsuite name="${xmlAttr(`${r.lab} (${r.mode})`)}" id="${k}" package="${xmlAttr(r.lab)}" tests="${r.items.length}" failures="${count(r, 'failure')}" errors="${count(r, 'error')}" skipped="${count(r, 'skipped')}" time="${r.seconds.toFixed(3)}" timestamp="${stamp(r)}" hostname="${host}">`,
      `    <properties>`,
      `      <property name="lab" value="${xmlAttr(r.lab)}"/>`,
      `      <property name="proxy-mode" value="${xmlAttr(r.mode)}"/>`,
      ...(r.setupSeconds !== undefined ? [`      <property name="setup-seconds" value="${r.setupSeconds.toFixed(3)}"/>`] : []),
      `    </properties>`,
      ...r.items.map((i) => junitCase(r, i)),
      '  </testsuite>',
    ].join('\n'),
  );
  const sum = (f: (r: ScenarioResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const attrs = `tests="${sum((r) => r.items.length)}" failures="${sum((r) => count(r, 'failure'))}" errors="${sum((r) => count(r, 'error'))}" skipped="${sum((r) => count(r, 'skipped'))}" time="${sum((r) => r.seconds).toFixed(3)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="svclab" ${attrs}>\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}

// ---- JSON ----

export function toJson(results: ScenarioResult[]): string {
  const total = (k: 'passed' | 'failed' | 'skipped') => results.reduce((a, r) => a + r[k], 0);
  return JSON.stringify({ passed: results.every((r) => r.failed === 0), summary: { passed: total('passed'), failed: total('failed'), skipped: total('skipped') }, results }, null, 2) + '\n';
}

// ---- --report ----

/** "tap:FILE" (also junit:, json:) → format and file. */
export function parseReportSpec(spec: string): { format: ReportFormat; file: string } {
  const i = spec.indexOf(':');
  const format = i > 0 ? spec.slice(0, i) : '';
  const file = spec.slice(i + 1);
  if (!isReportFormat(format) || !file) {
    throw new EnvironmentError(`--report ${spec}: expected FORMAT FILE or FORMAT:FILE with FORMAT one of ${REPORT_FORMATS.join(', ')}`, 'e.g. --report junit reports/svclab.xml');
  }
  return { format, file };
}

/**
 * `--report junit FILE` (two arguments) → `--report=junit:FILE`, so commander
 * sees one option value. Only a bare format name followed by another argument
 * is joined; `--report tap:FILE` and `--report=...` pass through.
 */
export function normalizeReportArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (argv[i] === '--report' && isReportFormat(argv[i + 1] ?? '') && argv[i + 2] !== undefined && !argv[i + 2].startsWith('-')) {
      out.push(`--report=${argv[i + 1]}:${argv[i + 2]}`);
      i += 2;
    } else out.push(argv[i]);
  }
  return out;
}

export function renderReport(format: ReportFormat, results: ScenarioResult[]): string {
  return { tap: toTap, junit: (r: ScenarioResult[]) => toJUnit(r), json: toJson }[format](results);
}

/** Writes the report named by "FORMAT:FILE", creating the file's directory. */
export async function writeReport(spec: string, results: ScenarioResult[]): Promise<void> {
  const { format, file } = parseReportSpec(spec);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderReport(format, results));
}
