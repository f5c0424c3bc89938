// `svclab run labs/ --modes …`: every lab in every mode, one cell each. This
// module plans the cells and sums them up (pure); run.ts runs them. The
// summary is a lab × mode table (passed / failed / skipped counts and time),
// then why cells were skipped or broke, then one totals line.
import { paint } from '../../util/output.ts';
import type { ItemResult, ScenarioResult } from '../../scenario/runner.ts';
import { PROXY_MODES, type ProxyMode } from '../../k8s/proxy-mode.ts';

export type CellStatus = 'passed' | 'failed' | 'skipped' | 'error';

export interface MatrixCell {
  lab: string;
  file: string;
  mode: ProxyMode;
  status: CellStatus;
  /** Why it was skipped, or what kept it from running (error). */
  reason?: string;
  result?: ScenarioResult;
  /** Wall time of the cell: up, scenario, down. */
  seconds: number;
}

/** The modes a lab runs in: the ones asked for, else its proxy.modes, else its proxy.mode. */
export function modesFor(proxy: { mode?: ProxyMode; modes?: ProxyMode[] } | undefined, requested?: ProxyMode[]): ProxyMode[] {
  if (requested?.length) return requested;
  if (proxy?.modes?.length) return [...new Set(proxy.modes)];
  return [proxy?.mode ?? 'iptables'];
}

/**
 * 0: every cell that ran passed (skips are fine); 1: an assertion failed; 2: a
 * cell could not run — or none could (a CI job that checked nothing must not pass).
 */
export function matrixExitCode(cells: MatrixCell[]): number {
  if (cells.some((c) => c.status === 'failed')) return 1;
  if (cells.some((c) => c.status === 'error')) return 2;
  if (cells.every((c) => c.status === 'skipped')) return 2;
  return 0;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

function cellText(c: MatrixCell | undefined): string {
  if (!c) return paint('gray', '·');
  const t = paint('gray', duration(c.seconds));
  const r = c.result;
  switch (c.status) {
    case 'passed':
      return `${paint('green', '✓')} ${r?.passed ?? 0} passed${r?.skipped ? `, ${r.skipped} skipped` : ''}  ${t}`;
    case 'failed':
      return `${paint('red', '✗')} ${r?.failed ?? 0} failed, ${r?.passed ?? 0} passed${r?.skipped ? `, ${r.skipped} skipped` : ''}  ${t}`;
    case 'skipped':
      return `${paint('yellow', '-')} skipped`;
    default:
      return `${paint('red', '!')} error  ${t}`;
  }
}

// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\u001B\[[0-9;]*m/g, '');
const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visible(s).length));

/** The matrix as a table, the reasons under it and a totals line. */
export function formatMatrix(cells: MatrixCell[], totalSeconds?: number): string {
  const labs = [...new Set(cells.map((c) => c.lab))];
  const cols = PROXY_MODES.filter((m) => cells.some((c) => c.mode === m));
  const rows = [['LAB', ...cols.map((m) => m.toUpperCase())], ...labs.map((l) => [l, ...cols.map((m) => cellText(cells.find((c) => c.lab === l && c.mode === m)))])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visible(r[i]).length)));
  const lines = rows.map((r, k) => {
    const text = r.map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i] + 3))).join('').trimEnd();
    return k === 0 ? paint('bold', text) : text;
  });

  // Skips share their reason (IPVS on every lab): one line per reason.
  const skips = new Map<string, string[]>();
  for (const c of cells.filter((x) => x.status === 'skipped')) {
    const key = `${c.mode}\0${c.reason ?? ''}`;
    skips.set(key, [...(skips.get(key) ?? []), c.lab]);
  }
  const notes: string[] = [];
  for (const [key, ls] of skips) {
    const [mode, reason] = key.split('\0');
    notes.push(`${paint('yellow', '-')} ${mode} skipped for ${ls.join(', ')}: ${reason || 'not available here'}`);
  }
  for (const c of cells.filter((x) => x.status === 'error')) {
    notes.push(`${paint('red', '!')} ${c.lab} × ${c.mode} could not run: ${(c.reason ?? '').split('\n')[0]}`);
  }
  for (const c of cells.filter((x) => x.status === 'failed')) {
    const failed = (c.result?.items ?? []).filter((i) => i.status === 'fail').map((i) => i.name);
    notes.push(`${paint('red', '✗')} ${c.lab} × ${c.mode}: ${failed.slice(0, 3).join('; ')}${failed.length > 3 ? `; and ${failed.length - 3} more` : ''}`);
  }

  const count = (s: CellStatus) => cells.filter((c) => c.status === s).length;
  const ran = cells.length - count('skipped');
  const total = totalSeconds ?? cells.reduce((a, c) => a + c.seconds, 0);
  const parts = [`${count('passed')} passed`, `${count('failed')} failed`, ...(count('error') ? [`${count('error')} could not run`] : []), `${count('skipped')} skipped`];
  const mark = matrixExitCode(cells) === 0 ? paint('green', '✓') : paint('red', '✗');
  const totals = `${mark} ${cells.length} cell${cells.length === 1 ? '' : 's'} (${labs.length} lab${labs.length === 1 ? '' : 's'} × modes), ${ran} ran: ${parts.join(', ')} in ${duration(total)}`;
  const nothing = ran === 0 ? [`${paint('red', '✗')} no cell could run on this machine`] : [];
  return [...lines, ...(notes.length ? ['', ...notes] : []), '', totals, ...nothing].join('\n');
}

/**
 * A cell as a scenario result for --report: a skipped mode becomes one skipped
 * item (TAP `# SKIP`, JUnit <skipped>), a cell that could not run one failed
 * step (JUnit <error>), so a course's CI sees every cell of the matrix.
 */
export function cellResult(c: MatrixCell): ScenarioResult {
  if (c.result) return c.result;
  const item: ItemResult = {
    index: 0,
    kind: 'step',
    type: c.status === 'skipped' ? 'mode' : 'up',
    name: c.status === 'skipped' ? `${c.mode} mode on this machine` : `bring ${c.lab} up in ${c.mode} mode`,
    status: c.status === 'skipped' ? 'skip' : 'fail',
    message: c.reason ?? '',
    seconds: c.seconds,
    attempts: 1,
  };
  return { lab: c.lab, mode: c.mode, items: [item], passed: 0, failed: item.status === 'fail' ? 1 : 0, skipped: item.status === 'skip' ? 1 : 0, seconds: c.seconds };
}
