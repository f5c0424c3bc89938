// Reports are read by CI tools, not by us: every format is parsed here by a
// real consumer from npm (tap-parser for TAP 14, fast-xml-parser for JUnit XML)
// and the numbers and messages they extract must match the results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Parser } from 'tap-parser';
import type { FinalResults } from 'tap-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeReportArgs, parseReportSpec, toJUnit, toJson, toTap, writeReport } from '../../src/scenario/report.ts';
import type { ItemResult, ScenarioResult } from '../../src/scenario/runner.ts';

const item = (index: number, over: Partial<ItemResult>): ItemResult => ({
  index, kind: 'assert', type: 'reach', name: `item ${index}`, status: 'pass', message: '', seconds: 0.25, attempts: 1, ...over,
});

const ESC = '\u001b';
// A nasty message: a TAP comment char, a backslash, XML specials, an ANSI colour, a NUL and several lines.
const NASTY = `expected 2 endpoints # got 1 \\ <none> & "quoted"\n  ${ESC}[31mKUBE-SVC-ABC${ESC}[0m missing\u0000\n  see iptables-save`;

const passing: ScenarioResult = {
  lab: 'clusterip-db', mode: 'iptables', passed: 2, failed: 0, skipped: 0, seconds: 3.5, setupSeconds: 4.25,
  items: [
    item(0, { type: 'service-ip', name: 'service-ip db-service', message: 'ClusterIP 10.96.0.12' }),
    item(1, { kind: 'step', type: 'scale', name: 'scale db=1' }),
  ],
};

const failing: ScenarioResult = {
  lab: 'overlapping-cidr', mode: 'nftables', passed: 1, failed: 2, skipped: 1, seconds: 12,
  items: [
    item(0, { name: 'reach web:80 from pod app=client # twice' }),
    item(1, { type: 'proxy-rules', name: 'proxy-rules web', status: 'fail', message: NASTY, attempts: 7, seconds: 30 }),
    item(2, { kind: 'step', type: 'apply', name: 'apply fix.yaml', status: 'fail', message: 'Error from server (NotFound): services "web" not found' }),
    item(3, { name: 'reach web:80 after the fix', status: 'skip', message: 'skipped: an earlier step failed' }),
  ],
};

interface Assert { ok: boolean; name: string; id: number; skip: unknown; diag: Record<string, unknown> | null }

/** Parses in strict mode; `asserts` are the subtests' test points, `children` their summaries. */
function parseTap(text: string): Promise<{ results: FinalResults; asserts: Assert[]; children: FinalResults[] }> {
  return new Promise((resolve) => {
    const asserts: Assert[] = [];
    const children: FinalResults[] = [];
    const p = new Parser({ strict: true }, (results) => resolve({ results, asserts, children }));
    p.on('child', (c: Parser) => {
      c.on('assert', (a: Assert) => asserts.push(a));
      c.on('complete', (r: FinalResults) => children.push(r));
    });
    p.end(text);
  });
}

test('TAP: tap-parser (strict) reads a passing run as ok, with one subtest per lab and mode', async () => {
  const { results, asserts, children } = await parseTap(toTap([passing]));
  assert.is(results.ok, true);
  assert.is(results.count, 1);
  assert.equal(results.failures, []);
  assert.equal(asserts.map((a) => a.name), ['service-ip db-service', 'step scale db=1']);
  assert.is(children.length, 1);
  assert.is(children[0].count, 2);
  assert.is(children[0].pass, 2);
});

test('TAP: failures, skips, escaped names and YAML diagnostics survive the parser', async () => {
  const text = toTap([passing, failing]);
  assert.ok(text.startsWith('TAP version 14\n1..2\n'), text);
  const { results, children } = await parseTap(text);
  assert.is(results.ok, false);
  assert.is(results.count, 2);
  assert.is(results.pass, 1);
  assert.is(results.fail, 1);
  assert.is(results.failures.length, 1);
  assert.is((results.failures[0] as { name: string }).name, 'overlapping-cidr [nftables]');
  assert.is(results.failures[0].diag.message, '1 passed, 2 failed, 1 skipped in 12.0s');
  const child = children[1];
  assert.is(child.count, 4);
  assert.is(child.fail, 2);
  assert.is(child.skip, 1);
  assert.is(child.skips[0].skip, 'skipped: an earlier step failed');

  const { asserts } = await parseTap(text);
  const names = asserts.map((a) => a.name);
  // '#' in a description is escaped on the way out and unescaped by the parser.
  assert.ok(names.includes('reach web:80 from pod app=client # twice'), names.join(' | '));
  const rules = asserts.find((a) => a.name === 'proxy-rules web')!;
  assert.is(rules.ok, false);
  assert.is(rules.diag!.message, NASTY);
  assert.is(rules.diag!.severity, 'fail');
  assert.is(rules.diag!.attempts, 7);
  // tap-parser lifts the TAP 14 duration_ms diagnostic into the result's time.
  assert.is((rules as unknown as { time: number }).time, 30000);
  const step = asserts.find((a) => a.name === 'step apply fix.yaml')!;
  assert.is(step.diag!.severity, 'error');
});

test('TAP: a lab without a scenario is a skipped subtest, not a failure', async () => {
  const empty: ScenarioResult = { lab: 'empty', mode: 'ipvs', items: [], passed: 0, failed: 0, skipped: 0, seconds: 0 };
  const { results } = await parseTap(toTap([empty]));
  assert.is(results.ok, true);
  assert.is(results.skip, 1);
});

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

test('JUnit: well-formed XML whose counts add up, per suite and in total', () => {
  const text = toJUnit([passing, failing], new Date('2026-01-02T03:04:05Z'));
  assert.is(XMLValidator.validate(text), true);
  const doc = xml.parse(text);
  const root = doc.testsuites;
  assert.is(root.name, 'svclab');
  assert.equal([root.tests, root.failures, root.errors, root.skipped], ['6', '1', '1', '1']);
  assert.is(root.time, '15.500');
  const [a, b] = root.testsuite;
  assert.equal([a.name, a.tests, a.failures, a.errors, a.skipped], ['clusterip-db (iptables)', '2', '0', '0', '0']);
  assert.equal([b.name, b.tests, b.failures, b.errors, b.skipped], ['overlapping-cidr (nftables)', '4', '1', '1', '1']);
  assert.is(b.timestamp, '2026-01-02T03:03:53');
  assert.ok(a.hostname);
  assert.equal(a.properties.property.map((p: { name: string; value: string }) => [p.name, p.value]), [['lab', 'clusterip-db'], ['proxy-mode', 'iptables'], ['setup-seconds', '4.250']]);
  for (const s of root.testsuite) {
    const cases = s.testcase;
    assert.is(cases.length, Number(s.tests));
    assert.is(cases.filter((c: object) => 'failure' in c).length, Number(s.failures));
    assert.is(cases.filter((c: object) => 'error' in c).length, Number(s.errors));
    assert.is(cases.filter((c: object) => 'skipped' in c).length, Number(s.skipped));
  }
});

test('JUnit: a failed check is a <failure>, a failed step an <error>; messages come back intact minus ANSI and NUL', () => {
  const doc = xml.parse(toJUnit([failing]));
  const cases = doc.testsuites.testsuite[0].testcase;
  assert.is(cases[0].name, '1. reach web:80 from pod app=client # twice');
  assert.is(cases[0].classname, 'overlapping-cidr.nftables');
  const failure = cases[1].failure;
  const clean = NASTY.replace(/\u001b\[[0-9;]*m/g, '').replace('\u0000', '');
  assert.is(failure['#text'], clean);
  assert.is(failure.message, 'expected 2 endpoints # got 1 \\ <none> & "quoted"');
  assert.is(failure.type, 'AssertionFailed');
  assert.is(cases[2].name, '3. step apply fix.yaml');
  assert.is(cases[2].error.type, 'StepFailed');
  assert.is(cases[2].error['#text'], 'Error from server (NotFound): services "web" not found');
  assert.is(cases[3].skipped.message, 'skipped: an earlier step failed');
  assert.is(cases[1].time, '30.000');
});

test('JUnit: a passing item keeps its message as <system-out>; an empty run is still valid', () => {
  const doc = xml.parse(toJUnit([passing]));
  assert.is(doc.testsuites.testsuite[0].testcase[0]['system-out'], 'ClusterIP 10.96.0.12');
  const empty = toJUnit([]);
  assert.is(XMLValidator.validate(empty), true);
  assert.is(xml.parse(empty).testsuites.tests, '0');
});

test('JSON: the results plus an overall verdict and totals', () => {
  const doc = JSON.parse(toJson([passing, failing]));
  assert.is(doc.passed, false);
  assert.equal(doc.summary, { passed: 3, failed: 2, skipped: 1 });
  assert.is(doc.results[1].items[1].message, NASTY);
});

test('--report FORMAT FILE (two arguments) becomes --report=FORMAT:FILE; other forms pass through', () => {
  assert.equal(normalizeReportArgs(['node', 'svclab', 'run', 'labs/a.yaml', '--report', 'junit', 'out/j.xml', '--down']),
    ['node', 'svclab', 'run', 'labs/a.yaml', '--report=junit:out/j.xml', '--down']);
  assert.equal(normalizeReportArgs(['run', '--report', 'tap:r.tap', 'labs/a.yaml']), ['run', '--report', 'tap:r.tap', 'labs/a.yaml']);
  assert.equal(normalizeReportArgs(['run', '--report', 'tap', '--down']), ['run', '--report', 'tap', '--down']);
  // After "--" everything belongs to another program.
  assert.equal(normalizeReportArgs(['exec', 'node-01', '--', 'x', '--report', 'tap', 'f']), ['exec', 'node-01', '--', 'x', '--report', 'tap', 'f']);
  assert.equal(parseReportSpec('junit:reports/a:b.xml'), { format: 'junit', file: 'reports/a:b.xml' });
  assert.throws(() => parseReportSpec('xml:out.xml'), /FORMAT FILE or FORMAT:FILE/);
  assert.throws(() => parseReportSpec('tap:'), /FORMAT FILE/);
});

test('writeReport creates the directory and writes what the renderer made', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'svclab-report-'));
  try {
    const file = join(dir, 'nested', 'r.xml');
    await writeReport(`junit:${file}`, [passing]);
    assert.is(XMLValidator.validate(await readFile(file, 'utf8')), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
