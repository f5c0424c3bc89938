// Sync cost benchmark (issue 3 §6): what a full sync and a one-service change cost
// at 1,000 and 10,000 services (2 endpoints each), in iptables mode with the
// iptables-nft and iptables-legacy backends and in nftables mode.
//  - render: the pure render (state -> payload text), in this process;
//  - sync: the real backend's .sync() (render + apply, everything a sync does), each
//    case in a fresh network namespace (bench/sync-worker.ts under `ip netns exec`);
//  - bare: the tool alone applying the identical payload in the same namespace, in
//    the same run, alternating with the backend (the floor); sync/bare is the ratio.
// Medians of a few repetitions. `--json` prints one JSON object.
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { run } from '../src/util/exec.ts';
import { EnvironmentError } from '../src/util/errors.ts';
import { renderIptables } from '../src/proxy/iptables/render.ts';
import { renderNftables, fullTransaction, diffTransaction } from '../src/proxy/nftables/render.ts';
import { benchSettings, benchStates, changedKey } from './fixture.ts';
import { requireRoot, withNetns } from './netns.ts';
import { median, ms, ratio, round, seconds } from './stats.ts';
import { SYNC_CASES, type CaseSamples, type SyncCase } from './sync-worker.ts';

export const SYNC_TARGETS = {
  render10kSeconds: 0.5,
  fullSyncRatio: 1.2,
  change10kSeconds: 0.3,
  change10kOver1k: 2,
};

export interface SyncOptions {
  sizes: number[];
  /** Repetitions of each render, full sync and one-service change (there and back). */
  reps: number;
  /** Full syncs at 10,000 services and more (nftables and iptables-nft take a minute or more each). */
  repsLarge: number;
  cases: SyncCase[];
  /** Include iptables-nft at 5,000 services and more: its restore alone takes minutes there. */
  slow: boolean;
  log: (line: string) => void;
}

/** iptables-nft-restore --noflush grows quadratically here: ~400 s for one 10k-service payload. */
export const SLOW_CASE_SIZE = 5_000;

interface Pair { sync: number; bare: number; ratio: number }

export interface SizeResult {
  size: number;
  /** Full syncs per case. */
  reps: number;
  /** Cases left out (iptables-nft at 10k without --slow). */
  skipped: SyncCase[];
  /** Wall-clock medians, and the CPU time this process spent (less sensitive to a loaded machine). */
  render: Record<'iptables' | 'nftables', { full: number; change: number; fullCpu: number; changeCpu: number }>;
  cases: Partial<Record<SyncCase, { full: Pair; change: Pair; bytes: CaseSamples['bytes']; kernelChains: CaseSamples['kernelChains']; samples: Pick<CaseSamples, 'full' | 'change'> }>>;
}

async function measureRender(size: number, reps: number): Promise<SizeResult['render']> {
  const settings = benchSettings();
  const { base, changed } = benchStates(size, settings);
  const key = new Set([changedKey(size)]);
  const active = [...renderIptables(base, settings, {}).activeNatChains];
  const prev = renderNftables(base, settings);
  const tasks = {
    iptablesFull: () => renderIptables(base, settings, {}).text,
    iptablesChange: () => renderIptables(changed, settings, { existingNatChains: active, changed: key }).text,
    nftablesFull: () => fullTransaction(renderNftables(base, settings), { recreateBaseChains: true }),
    // As the backend's partial sync: re-render the changed service, reuse the others, diff.
    nftablesChange: () => diffTransaction(prev, renderNftables(changed, settings, { reuse: { previous: prev, changed: key } })),
  };
  type Task = keyof typeof tasks;
  const wall: Record<Task, number[]> = { iptablesFull: [], iptablesChange: [], nftablesFull: [], nftablesChange: [] };
  const cpu: Record<Task, number[]> = { iptablesFull: [], iptablesChange: [], nftablesFull: [], nftablesChange: [] };
  for (const fn of Object.values(tasks)) fn(); // warm-up: a running proxy has rendered before
  for (let i = 0; i < reps; i++) {
    for (const [name, fn] of Object.entries(tasks) as Array<[Task, () => string]>) {
      const c0 = process.cpuUsage();
      wall[name].push((await seconds(fn)).s);
      const c = process.cpuUsage(c0);
      cpu[name].push((c.user + c.system) / 1e6);
    }
  }
  const fig = (full: Task, change: Task) => ({ full: median(wall[full]), change: median(wall[change]), fullCpu: median(cpu[full]), changeCpu: median(cpu[change]) });
  return { iptables: fig('iptablesFull', 'iptablesChange'), nftables: fig('nftablesFull', 'nftablesChange') };
}

async function runWorker(name: SyncCase, size: number, fullReps: number, changeReps: number): Promise<CaseSamples> {
  const worker = fileURLToPath(new URL('./sync-worker.ts', import.meta.url));
  return withNetns(async (ns) => {
    const r = await run(['ip', 'netns', 'exec', ns, process.execPath, '--import', 'tsx', worker, name, String(size), String(fullReps), String(changeReps)], {
      env: { NODE_NO_WARNINGS: '1' },
      timeoutMs: 3_600_000,
      where: `netns ${ns}`,
    });
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as CaseSamples;
  });
}

function pair(sync: number[], bare: number[]): Pair {
  const s = median(sync);
  const b = median(bare);
  return { sync: s, bare: b, ratio: s / b };
}

async function checkTools(): Promise<void> {
  for (const tool of ['ip', 'nft', 'iptables-nft-restore', 'iptables-legacy-restore']) {
    const r = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (r.code !== 0) throw new EnvironmentError(`the sync benchmark needs ${tool}`, 'sudo bash scripts/setup.sh');
  }
}

export async function benchSync(opts: SyncOptions): Promise<SizeResult[]> {
  requireRoot('the sync benchmark');
  await checkTools();
  const results: SizeResult[] = [];
  for (const size of opts.sizes) {
    const fullReps = size >= 10_000 ? Math.min(opts.reps, opts.repsLarge) : opts.reps;
    opts.log(`${size} services: render x${opts.reps}`);
    const res: SizeResult = { size, reps: fullReps, render: await measureRender(size, opts.reps), cases: {}, skipped: [] };
    for (const name of opts.cases) {
      if (name === 'iptables-nft' && size >= SLOW_CASE_SIZE && !opts.slow) {
        opts.log(`${size} services: iptables-nft skipped (its restore alone takes minutes at this size; --slow runs it)`);
        res.skipped.push(name);
        continue;
      }
      const reps = name === 'iptables-nft' && size >= SLOW_CASE_SIZE ? 1 : fullReps;
      opts.log(`${size} services: ${name} full sync vs bare x${reps}, change vs bare x${2 * opts.reps} (fresh netns)`);
      const s = await runWorker(name, size, reps, opts.reps);
      res.cases[name] = {
        full: pair(s.full.sync, s.full.bare),
        change: pair(s.change.sync, s.change.bare),
        bytes: s.bytes,
        kernelChains: s.kernelChains,
        samples: { full: s.full, change: s.change },
      };
    }
    results.push(res);
  }
  return results;
}

export interface TargetCheck { target: string; value: string; met: boolean }

export function checkTargets(results: SizeResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const big = results.find((r) => r.size === 10_000);
  const small = results.find((r) => r.size === 1_000);
  if (big) {
    for (const mode of ['iptables', 'nftables'] as const) {
      const v = big.render[mode].full;
      out.push({ target: `render 10k (${mode}) < ${SYNC_TARGETS.render10kSeconds}s`, value: ms(v), met: v < SYNC_TARGETS.render10kSeconds });
    }
  }
  for (const r of results) {
    for (const [name, c] of Object.entries(r.cases)) {
      out.push({ target: `full sync ${r.size} ${name} <= ${SYNC_TARGETS.fullSyncRatio}x bare`, value: ratio(c!.full.ratio), met: c!.full.ratio <= SYNC_TARGETS.fullSyncRatio });
    }
  }
  if (big) {
    for (const [name, c] of Object.entries(big.cases)) {
      out.push({ target: `change 10k ${name} < ${SYNC_TARGETS.change10kSeconds}s`, value: ms(c!.change.sync), met: c!.change.sync < SYNC_TARGETS.change10kSeconds });
      const s = small?.cases[name as SyncCase];
      if (s) {
        const g = c!.change.sync / s.change.sync;
        out.push({ target: `change 10k / change 1k ${name} <= ${SYNC_TARGETS.change10kOver1k}x`, value: ratio(g), met: g <= SYNC_TARGETS.change10kOver1k });
      }
    }
  }
  return out;
}

/** How much the bare tool's own one-service change grows from 1k to 10k services, per case. */
export function floorGrowth(results: SizeResult[]): Partial<Record<SyncCase, number>> {
  const big = results.find((r) => r.size === 10_000);
  const small = results.find((r) => r.size === 1_000);
  const out: Partial<Record<SyncCase, number>> = {};
  for (const name of SYNC_CASES) {
    const b = big?.cases[name];
    const s = small?.cases[name];
    if (b && s) out[name] = b.change.bare / s.change.bare;
  }
  return out;
}

export function syncReport(results: SizeResult[], checks: TargetCheck[]): string {
  const lines: string[] = [];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  lines.push(row(['services', 'mode / backend', 'render full', 'render change', 'full sync', 'bare full', 'full ratio', 'change sync', 'bare change', 'change ratio', 'change - bare']));
  lines.push(row(Array(11).fill('---')));
  for (const r of results) {
    for (const name of SYNC_CASES) {
      const c = r.cases[name];
      const render = r.render[name === 'nftables' ? 'nftables' : 'iptables'];
      if (!c) {
        if (r.skipped.includes(name)) lines.push(row([String(r.size), name, ms(render.full), ms(render.change), 'skipped (--slow)', '', '', '', '', '', '']));
        continue;
      }
      lines.push(row([
        String(r.size), name, ms(render.full), ms(render.change),
        ms(c.full.sync), ms(c.full.bare), ratio(c.full.ratio),
        ms(c.change.sync), ms(c.change.bare), ratio(c.change.ratio), ms(c.change.sync - c.change.bare),
      ]));
    }
  }
  lines.push('', ...checks.map((c) => `${c.met ? 'MET ' : 'MISS'}  ${c.target}: ${c.value}`));
  const growth = Object.entries(floorGrowth(results));
  if (growth.length) lines.push('', `the bare tool's own one-service change, 10k vs 1k: ${growth.map(([k, g]) => `${k} ${ratio(g!)}`).join(', ')}`);
  return lines.join('\n');
}

export function syncJSON(results: SizeResult[], checks: TargetCheck[]): object {
  const r4 = (p: Pair) => ({ sync: round(p.sync), bare: round(p.bare), ratio: round(p.ratio, 3) });
  return {
    benchmark: 'sync',
    unit: 'seconds (medians)',
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => round(l, 2)), kernel: release(), node: process.version },
    targets: SYNC_TARGETS,
    results: results.map((r) => ({
      services: r.size,
      endpointsPerService: 2,
      fullSyncReps: r.reps,
      skipped: r.skipped,
      render: Object.fromEntries(Object.entries(r.render).map(([k, v]) => [k, { full: round(v.full), change: round(v.change), fullCpu: round(v.fullCpu), changeCpu: round(v.changeCpu) }])),
      cases: Object.fromEntries(Object.entries(r.cases).map(([k, c]) => [k, {
        full: r4(c!.full),
        change: r4(c!.change),
        payloadBytes: c!.bytes,
        kernelChains: c!.kernelChains,
        samples: {
          full: { sync: c!.samples.full.sync.map((x) => round(x)), bare: c!.samples.full.bare.map((x) => round(x)) },
          change: { sync: c!.samples.change.sync.map((x) => round(x)), bare: c!.samples.change.bare.map((x) => round(x)) },
        },
      }])),
    })),
    checks,
    bareChangeGrowth10kOver1k: Object.fromEntries(Object.entries(floorGrowth(results)).map(([k, g]) => [k, round(g!, 3)])),
  };
}
