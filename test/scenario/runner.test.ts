// The scenario runner against a fake lab: items parsed by the lab schema, run
// in order, one line each; assertions retried until their timeout, a failed
// step skipping what follows, items for other proxy modes skipped with the
// reason, and the same results a report is made from.
import type { ProxyMode } from '../../src/k8s/proxy-mode.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LabNode } from '../../src/cluster/driver.ts';
import type { LabLayout } from '../../src/lab/load.ts';
import { ScenarioItemSchema } from '../../src/lab/schema.ts';
import type { LabApi } from '../../src/lifecycle/lab-api.ts';
import type { ScenarioContext } from '../../src/scenario/context.ts';
import { runScenario, type ScenarioResult } from '../../src/scenario/runner.ts';
import type { ExecResult } from '../../src/util/exec.ts';

process.env.NO_COLOR = '1';

const LAYOUT: LabLayout = {
  name: 'runner', nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1',
  nodes: [{ name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' }],
  external: { name: 'external', ip: '192.168.49.254' }, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12',
  apiServerIP: '10.96.0.1', dnsIP: '10.96.0.10', nodePortRange: { base: 30000, size: 2768 }, proxyMode: 'iptables', clusterDomain: 'cluster.local',
};

/** A node whose commands answer from a script: `true` passes, `false` fails, `flaky` fails once, `lost` throws. */
function fakeNode(name: string, ip: string): LabNode & { ran: string[][] } {
  let flaky = 0;
  const ran: string[][] = [];
  const answer = (argv: string[]): ExecResult => {
    switch (argv[0]) {
      case 'true': return { code: 0, stdout: '', stderr: '' };
      case 'flaky': return flaky++ === 0 ? { code: 1, stdout: '', stderr: 'not yet' } : { code: 0, stdout: 'ready\n', stderr: '' };
      case 'lost': throw new Error('the node agent stopped answering');
      default: return { code: 1, stdout: '', stderr: 'nope' };
    }
  };
  return {
    name, ip, ran,
    exec: async (argv) => {
      ran.push(argv);
      return answer(argv);
    },
    startDaemon: async () => 1,
    writeFile: async () => undefined,
    readFile: async () => undefined,
  };
}

function fakeContext(mode: ProxyMode = 'iptables') {
  const node = fakeNode('node-01', '192.168.49.2');
  // The API is not reached by the items below (exec and wait only).
  const ctx: ScenarioContext = {
    layout: LAYOUT, mode, api: {} as LabApi, nodes: new Map([['node-01', node]]), external: fakeNode('external', '192.168.49.254'),
    bundle: '/svclab.mjs', nodeBin: 'node', vars: new Map(),
  };
  return { ctx, node };
}

/** Runs the items (as a lab file would write them) and returns the result and the printed lines, timings as "N.Ns". */
async function run(ctx: ScenarioContext, raw: unknown[]): Promise<{ result: ScenarioResult; lines: string[] }> {
  let text = '';
  const out = { isTTY: false, write: (s: string) => ((text += s), true) } as NodeJS.WriteStream;
  const items = raw.map((r) => ScenarioItemSchema.parse(r));
  const result = await runScenario(ctx, items, { lab: 'runner', labFile: '/labs/runner.yaml', out });
  return { result, lines: text.replace(/\(\d+\.\ds/g, '(N.Ns').trimEnd().split('\n') };
}

const on = { node: 'node-01' };

test('a passing and a failing assertion: a line each, the message under it; a failed assertion does not stop the rest', async () => {
  const { ctx } = fakeContext();
  const { result, lines } = await run(ctx, [
    { assert: 'exec', on, command: ['true'], expect: {} },
    { assert: 'exec', name: 'the impossible', on, command: ['false'], expect: {}, timeout: 0.01 },
    { step: 'exec', on, command: ['true'] },
  ]);
  assert.equal(lines, [
    '✓ exec (N.Ns)',
    '    `true` in node-01',
    '✗ the impossible (N.Ns)',
    '    `false` in node-01 exited 1, expected 0: nope',
    '✓ step exec (N.Ns)',
    '    `true` in node-01',
  ]);
  assert.equal(result.items.map((i) => [i.index, i.kind, i.type, i.status, i.attempts]), [
    [0, 'assert', 'exec', 'pass', 1],
    [1, 'assert', 'exec', 'fail', 1],
    [2, 'step', 'exec', 'pass', 1],
  ]);
  assert.equal([result.passed, result.failed, result.skipped], [2, 1, 0]);
  assert.is(result.lab, 'runner');
  assert.is(result.mode, 'iptables');
});

test('an assertion is tried again until it holds, and the line says how many tries', async () => {
  const { ctx, node } = fakeContext();
  const { result, lines } = await run(ctx, [{ assert: 'exec', on, command: ['flaky'], expect: { stdout: 'ready' }, timeout: 5 }]);
  assert.equal(lines, ['✓ exec (N.Ns, 2 tries)', '    `flaky` in node-01: ready']);
  assert.is(result.items[0].attempts, 2);
  assert.is(node.ran.length, 2);
});

test('an item meant for other proxy modes is skipped, and says why', async () => {
  const { ctx, node } = fakeContext('nftables');
  const { result, lines } = await run(ctx, [
    { assert: 'exec', name: 'ipvs only', on, command: ['true'], expect: {}, modes: ['ipvs', 'iptables'] },
    { assert: 'exec', name: 'nftables too', on, command: ['true'], expect: {}, modes: ['nftables'] },
  ]);
  assert.equal(lines, ['- ipvs only (not run in nftables mode (only ipvs, iptables))', '✓ nftables too (N.Ns)', '    `true` in node-01']);
  assert.equal(result.items[0], { index: 0, kind: 'assert', type: 'exec', name: 'ipvs only', status: 'skip', message: 'not run in nftables mode (only ipvs, iptables)', seconds: 0, attempts: 0 });
  assert.equal([result.passed, result.failed, result.skipped], [1, 0, 1]);
  assert.is(node.ran.length, 1);
});

test('a failed step skips what follows; an assertion that could not check is an "error:"', async () => {
  const { ctx, node } = fakeContext();
  const { result, lines } = await run(ctx, [
    { assert: 'exec', on, command: ['lost'], expect: {}, timeout: 0.01 },
    { step: 'exec', name: 'break it', on, command: ['false'] },
    { step: 'wait', seconds: 0.01 },
    { assert: 'exec', on, command: ['true'], expect: {} },
  ]);
  assert.equal(lines, [
    '✗ exec (N.Ns)',
    '    error: the node agent stopped answering',
    '✗ step break it (N.Ns)',
    '    `false` in node-01 exited 1, expected 0: nope',
    '- wait (skipped: an earlier step failed)',
    '- exec (skipped: an earlier step failed)',
  ]);
  assert.equal(result.items.map((i) => [i.kind, i.status, i.message]), [
    ['assert', 'fail', 'error: the node agent stopped answering'],
    ['step', 'fail', '`false` in node-01 exited 1, expected 0: nope'],
    ['step', 'skip', 'skipped: an earlier step failed'],
    ['assert', 'skip', 'skipped: an earlier step failed'],
  ]);
  assert.equal(node.ran, [['lost'], ['false']]);
});

test('the built-in variables are set before the first item and expanded in commands', async () => {
  const { ctx, node } = fakeContext();
  const { result } = await run(ctx, [{ step: 'exec', on, command: ['true', '${serviceCIDR}', '${proxyMode}'] }]);
  assert.is(result.failed, 0);
  assert.equal(node.ran, [['true', '10.96.0.0/12', 'iptables']]);
});

test.run();
