// The lab × mode matrix of `svclab run labs/ --modes …`: which modes each lab
// runs in, the summary table with its reasons and totals, the exit code, and
// the cells as report entries (TAP/JUnit see skipped and broken cells too).
process.env.NO_COLOR = '1';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cellResult, duration, formatMatrix, matrixExitCode, modesFor, type MatrixCell } from '../../../src/cli/matrix/plan.ts';
import { parseProxyModeList as parseModes } from '../../../src/k8s/proxy-mode.ts';
import { toJUnit, toTap } from '../../../src/scenario/report.ts';
import type { ScenarioResult } from '../../../src/scenario/runner.ts';

function result(lab: string, mode: string, passed: number, failed: string[] = [], skipped = 0, seconds = 20): ScenarioResult {
  const items = [
    ...Array.from({ length: passed }, (_, i) => ({ index: i, kind: 'assert' as const, type: 'reach', name: `check ${i + 1}`, status: 'pass' as const, message: '', seconds: 1, attempts: 1 })),
    ...failed.map((name, i) => ({ index: passed + i, kind: 'assert' as const, type: 'reach', name, status: 'fail' as const, message: 'no answer', seconds: 30, attempts: 9 })),
    ...Array.from({ length: skipped }, (_, i) => ({ index: passed + failed.length + i, kind: 'assert' as const, type: 'reach', name: `mode-specific ${i + 1}`, status: 'skip' as const, message: 'only in iptables', seconds: 0, attempts: 0 })),
  ];
  return { lab, mode, items, passed, failed: failed.length, skipped, seconds };
}

const IPVS = "IPVS mode needs the kernel's ip_vs (this kernel 6.1.0 has none: /proc/net/ip_vs is missing); run this lab with --driver libvirt, or choose --mode iptables|nftables";

function cells(): MatrixCell[] {
  return [
    { lab: 'clusterip-db', file: 'labs/clusterip-db.yaml', mode: 'iptables', status: 'passed', result: result('clusterip-db', 'iptables', 14), seconds: 31.2 },
    { lab: 'clusterip-db', file: 'labs/clusterip-db.yaml', mode: 'nftables', status: 'passed', result: result('clusterip-db', 'nftables', 13, [], 1), seconds: 29.8 },
    { lab: 'clusterip-db', file: 'labs/clusterip-db.yaml', mode: 'ipvs', status: 'skipped', reason: IPVS, seconds: 0 },
    { lab: 'nodeport-web', file: 'labs/nodeport-web.yaml', mode: 'iptables', status: 'failed', result: result('nodeport-web', 'iptables', 8, ['the node without a replica drops NodePort traffic']), seconds: 64.5 },
    { lab: 'nodeport-web', file: 'labs/nodeport-web.yaml', mode: 'ipvs', status: 'skipped', reason: IPVS, seconds: 0 },
    { lab: 'nodeport-web', file: 'labs/nodeport-web.yaml', mode: 'userspace', status: 'error', reason: 'timed out after 90s waiting for pods to be Ready\n  more detail', seconds: 95 },
  ];
}

test('modes: --modes wins, else the lab\'s proxy.modes, else its mode', () => {
  assert.equal(modesFor({ mode: 'iptables', modes: ['iptables', 'nftables'] }, ['userspace']), ['userspace']);
  assert.equal(modesFor({ mode: 'iptables', modes: ['iptables', 'nftables', 'iptables'] }), ['iptables', 'nftables']);
  assert.equal(modesFor({ mode: 'nftables' }), ['nftables']);
  assert.equal(modesFor(undefined), ['iptables']);
  assert.equal(parseModes('iptables, nftables,iptables'), ['iptables', 'nftables']);
  assert.throws(() => parseModes('iptables,ebpf'), /unknown mode ebpf/);
  assert.throws(() => parseModes(','), /no mode given/);
});

test('the summary: a lab × mode table, one line per skip reason, what failed or could not run, and totals', () => {
  const text = formatMatrix(cells(), 222.4);
  assert.equal(text.split('\n'), [
    'LAB            IPTABLES                      NFTABLES                        IPVS        USERSPACE',
    'clusterip-db   ✓ 14 passed  31.2s            ✓ 13 passed, 1 skipped  29.8s   - skipped   ·',
    'nodeport-web   ✗ 1 failed, 8 passed  1m05s   ·                               - skipped   ! error  1m35s',
    '',
    `- ipvs skipped for clusterip-db, nodeport-web: ${IPVS}`,
    '! nodeport-web × userspace could not run: timed out after 90s waiting for pods to be Ready',
    '✗ nodeport-web × iptables: the node without a replica drops NodePort traffic',
    '',
    '✗ 6 cells (2 labs × modes), 4 ran: 2 passed, 1 failed, 1 could not run, 2 skipped in 3m42s',
  ]);
});

test('all ran cells passed: exit 0 even with skipped modes; a failure is 1; a cell that could not run is 2', () => {
  const ok = cells().filter((c) => c.status === 'passed' || c.status === 'skipped');
  assert.is(matrixExitCode(ok), 0);
  assert.match(formatMatrix(ok), /^✓ 4 cells \(2 labs × modes\), 2 ran: 2 passed, 0 failed, 2 skipped in 1m01s$/m);
  assert.is(matrixExitCode(cells()), 1);
  assert.is(matrixExitCode(cells().filter((c) => c.status !== 'failed')), 2);
  // Nothing ran (IPVS only, on a kernel without it): a CI job that checked nothing does not pass.
  const none = cells().filter((c) => c.status === 'skipped');
  assert.is(matrixExitCode(none), 2);
  assert.match(formatMatrix(none), /✗ 2 cells \(2 labs × modes\), 0 ran: 0 passed, 0 failed, 2 skipped in 0\.0s\n✗ no cell could run on this machine$/);
});

test('durations: seconds with a decimal under a minute, then m:ss', () => {
  assert.is(duration(9.04), '9.0s');
  assert.is(duration(59.94), '59.9s');
  assert.is(duration(125), '2m05s');
});

test('report entries: a skipped mode is a TAP SKIP and a JUnit <skipped>, a cell that could not run a JUnit <error>', () => {
  const results = cells().map(cellResult);
  assert.is(results.length, 6);
  const tap = toTap(results);
  assert.match(tap, /# Subtest: clusterip-db \[ipvs\]\n    1\.\.1\n    ok 1 - step ipvs mode on this machine # SKIP IPVS mode needs/);
  assert.match(tap, /not ok 6 - nodeport-web \[userspace\]/);
  const junit = toJUnit(results, new Date('2026-01-01T00:00:00Z'));
  assert.match(junit, /<skipped message="IPVS mode needs the kernel&apos;s ip_vs|<skipped message="IPVS mode needs the kernel's ip_vs/);
  assert.match(junit, /<error message="timed out after 90s waiting for pods to be Ready" type="StepFailed">/);
  assert.match(junit, /<testsuites name="svclab" tests="40" failures="1" errors="1" skipped="3"/);
});

test.run();
