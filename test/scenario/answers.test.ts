// Answer files: written by an answer step (a value, or found in a command's
// output), compared by an answer assertion (CIDRs by value, lists in any
// order), never revealing the expected answer when wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAnswer, sameAnswer, stepAnswer } from '../../src/scenario/assertions/answers.ts';
import type { ScenarioContext } from '../../src/scenario/context.ts';

function ctx(dir: string, stdout = ''): ScenarioContext {
  const node = { name: 'node-01', ip: '192.168.49.2', exec: async () => ({ code: 0, stdout, stderr: '' }) };
  return { nodes: new Map([['node-01', node]]), vars: new Map([['serviceCIDR', '10.112.0.0/16']]), answersDir: dir } as unknown as ScenarioContext;
}

/** uvu has no rejects(): the promise must fail with a message matching `re`. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

test('answers compare trimmed, CIDRs by value, lists as sets', () => {
  assert.ok(sameAnswer(' nftables\n', 'nftables'));
  assert.not.ok(sameAnswer('iptables', 'nftables'));
  assert.ok(sameAnswer('10.112.0.0/16', '10.112.0.0/16'));
  assert.not.ok(sameAnswer('10.112.0.0/12', '10.112.0.0/16'));
  assert.not.ok(sameAnswer('not a cidr', '10.112.0.0/16'));
  assert.ok(sameAnswer('node-03, node-01', 'node-01,node-03', true));
  assert.not.ok(sameAnswer('node-01', 'node-01,node-03', true));
});

test('an answer step writes a value with ${variables}; the assertion reads and compares it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-answers-'));
  try {
    const c = ctx(dir);
    assert.is(await stepAnswer(c, { key: 'service-cidr', value: '${serviceCIDR}', timeout: 30 }), 'answer service-cidr: 10.112.0.0/16');
    assert.is(readFileSync(join(dir, 'service-cidr'), 'utf8'), '10.112.0.0/16\n');
    assert.is(await checkAnswer(c, { key: 'service-cidr', equals: '${serviceCIDR}', save: 'cidr' }), 'answer service-cidr: 10.112.0.0/16');
    assert.is(c.vars.get('cidr'), '10.112.0.0/16');
    await rejects(() => checkAnswer(c, { key: 'service-cidr', equals: '10.96.0.0/12' }), /^the answer "service-cidr" is "10\.112\.0\.0\/16", which is not right$/);
    await rejects(() => checkAnswer(c, { key: 'proxy-mode', equals: 'nftables' }), /^no answer "proxy-mode" yet/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an answer step finds its value in a command\'s output, as a learner reading ps would', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-answers-'));
  try {
    const ps = 'node daemon apiserver --service-cluster-ip-range=10.112.0.0/16 --state-dir=/var/lib/svclab/other/controlplane\n';
    const c = ctx(dir, ps);
    await stepAnswer(c, { key: 'service-cidr', timeout: 30, from: { on: { node: 'node-01' }, command: ['ps', '-eo', 'args'], match: '--service-cluster-ip-range=(\\S+)' } });
    assert.is(readFileSync(join(dir, 'service-cidr'), 'utf8'), '10.112.0.0/16\n');
    await rejects(() => stepAnswer(c, { key: 'x', timeout: 0.1, from: { on: { node: 'node-01' }, command: ['ps'], match: 'proxy-mode=(\\S+)' } }), /does not match/);
    await rejects(() => stepAnswer(c, { key: 'Bad Key', value: 'v', timeout: 30 }), /is not an answer name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
