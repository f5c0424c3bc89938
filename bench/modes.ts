// The data path per proxy mode (issue 5, "Comparing modes"), on the netns driver:
// short HTTP requests (requests/s, p50/p99 latency) and a 100 MB transfer, from a
// client pod to nginx directly (pod -> pod, the floor) and through the ClusterIP,
// with the lab's proxy in iptables, nftables and userspace mode. The lab
// (bench/labs/bench-web.yaml) is brought up once per mode and always taken down;
// inside each bring-up the direct and ClusterIP runs alternate, so the ratio to
// direct is measured side by side under the same machine load. Traffic stays
// inside the lab's namespaces: the load generators run in the client pod.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type ExecResult } from '../src/util/exec.ts';
import { EnvironmentError } from '../src/util/errors.ts';
import { requireRoot } from './netns.ts';
import { curlArgv, parseCurl, parseWrk, wrkArgv, WRK_CONNECTIONS, WRK_THREADS, type TransferResult, type WrkResult } from './load.ts';
import { median, ms, ratio, round } from './stats.ts';

export const LAB_FILE = fileURLToPath(new URL('./labs/bench-web.yaml', import.meta.url));
export const LAB_NAME = 'bench-web';
const SVCLAB = fileURLToPath(new URL('../bin/svclab.js', import.meta.url));

export const MODES = ['iptables', 'nftables', 'userspace'] as const;
export type BenchMode = (typeof MODES)[number];

export const MODE_TARGETS = {
  kernelThroughputRatio: 0.9, // iptables, nftables: within 10% of direct
  userspaceThroughputRatio: 0.5,
  userspaceP99OverheadSeconds: 0.001,
};

export interface ModesOptions {
  modes?: string[];
  /** Rounds of (direct, ClusterIP) pairs per mode. */
  rounds?: number;
  /** Seconds per wrk run. */
  wrkSeconds?: number;
  /** 100 MB transfers per path per round. */
  transfers?: number;
  log: (line: string) => void;
}

export interface PathFigures {
  rps: number;
  p50: number;
  p99: number;
  bytesPerSecond: number;
  samples: { wrk: WrkResult[]; transfer: TransferResult[] };
}

export interface ModeFigures {
  mode: BenchMode;
  direct: PathFigures;
  clusterIP: PathFigures;
  /** Per round (paths back to back), then the median over rounds. */
  ratios: { rps: number; throughput: number; p50OverheadSeconds: number; p99OverheadSeconds: number };
}

export interface ModesResult {
  rounds: number;
  wrkSeconds: number;
  transfers: number;
  modes: ModeFigures[];
}

function svclab(args: string[], timeoutMs: number, allowFailure = false): Promise<ExecResult> {
  return run([process.execPath, SVCLAB, ...args], { timeoutMs, allowFailure, env: { NO_COLOR: '1' } });
}

/** Runs argv in the lab's client pod. */
function inClient(argv: string[], timeoutMs: number, allowFailure = false): Promise<ExecResult> {
  return svclab(['exec', '--lab', LAB_NAME, 'client', '--', ...argv], timeoutMs, allowFailure);
}

async function addresses(): Promise<{ podIP: string; clusterIP: string }> {
  const pod = JSON.parse((await svclab(['get', 'pods', 'web', '--lab', LAB_NAME, '-o', 'json'], 30_000)).stdout);
  const svc = JSON.parse((await svclab(['get', 'svc', 'web', '--lab', LAB_NAME, '-o', 'json'], 30_000)).stdout);
  const podIP = pod.status?.podIP;
  const clusterIP = svc.spec?.clusterIP;
  if (!podIP || !clusterIP) throw new Error(`bench-web: no pod IP (${podIP}) or ClusterIP (${clusterIP}) yet`);
  return { podIP, clusterIP };
}

/** The proxy programs the ClusterIP a moment after the lab is up: wait until the small page answers through it. */
async function waitServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await inClient(['curl', '-sS', '--fail', '--max-time', '2', url], 15_000, true);
    if (r.code === 0 && r.stdout.trim() === 'ok') return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer from the client pod within 60 s: ${r.stderr.trim()}`);
    await sleep(500);
  }
}

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const r = await inClient(wrkArgv(url, seconds), (seconds + 30) * 1000);
  const res = parseWrk(r.stdout);
  if (res.errors) throw new Error(`wrk saw ${res.errors} errors against ${url}:\n${r.stdout}`);
  return res;
}

export const TRANSFER_BYTES = 104_857_600;

async function transfer(url: string, count: number): Promise<TransferResult[]> {
  const r = await inClient(curlArgv(url, count, 120), 180_000);
  const res = parseCurl(r.stdout);
  for (const t of res) if (t.bytes !== TRANSFER_BYTES) throw new Error(`${url}: got ${t.bytes} bytes, not 100 MB`);
  if (res.length !== count) throw new Error(`${url}: ${res.length} transfers reported, not ${count}`);
  return res;
}

function figures(w: WrkResult[], t: TransferResult[]): PathFigures {
  return {
    rps: median(w.map((x) => x.rps)),
    p50: median(w.map((x) => x.p50)),
    p99: median(w.map((x) => x.p99)),
    bytesPerSecond: median(t.map((x) => x.bytesPerSecond)),
    samples: { wrk: w, transfer: t },
  };
}

async function measureMode(mode: BenchMode, rounds: number, wrkSeconds: number, transfers: number, log: (l: string) => void): Promise<ModeFigures> {
  log(`${mode}: svclab up ${LAB_NAME} --mode ${mode}`);
  const up = await svclab(['up', LAB_FILE, '--mode', mode], 300_000, true);
  try {
    if (up.code !== 0) {
      throw new Error(`svclab up --mode ${mode} failed (exit ${up.code}):\n${(up.stderr || up.stdout).trim().split('\n').slice(-8).join('\n')}`);
    }
    const { podIP, clusterIP } = await addresses();
    const paths = { direct: `http://${podIP}`, clusterIP: `http://${clusterIP}` };
    await waitServing(`${paths.direct}/small`);
    await waitServing(`${paths.clusterIP}/small`);
    // Warm-up (connection tracking, page cache for the file, the proxy's JIT in userspace mode).
    for (const base of Object.values(paths)) {
      await wrk(`${base}/small`, 1);
      await transfer(`${base}/100mb.bin`, 1);
    }
    const w = { direct: [] as WrkResult[], clusterIP: [] as WrkResult[] };
    const t = { direct: [] as TransferResult[], clusterIP: [] as TransferResult[] };
    for (let i = 0; i < rounds; i++) {
      // Alternate which path goes first so drifting load hits both alike.
      const order = (i % 2 === 0 ? ['direct', 'clusterIP'] : ['clusterIP', 'direct']) as Array<keyof typeof paths>;
      for (const path of order) {
        w[path].push(await wrk(`${paths[path]}/small`, wrkSeconds));
        t[path].push(...(await transfer(`${paths[path]}/100mb.bin`, transfers)));
      }
      log(`${mode}: round ${i + 1}/${rounds}: direct ${w.direct.at(-1)!.rps.toFixed(0)} req/s, ClusterIP ${w.clusterIP.at(-1)!.rps.toFixed(0)} req/s`);
    }
    // Ratios and overheads are taken round by round (the two paths measured back to back)
    // and then the median over rounds, so load that drifts between rounds cancels out.
    const perRound = (f: (i: number) => number) => median(Array.from({ length: rounds }, (_, i) => f(i)));
    const bps = (xs: TransferResult[], i: number) => median(xs.slice(i * transfers, (i + 1) * transfers).map((x) => x.bytesPerSecond));
    return {
      mode,
      direct: figures(w.direct, t.direct),
      clusterIP: figures(w.clusterIP, t.clusterIP),
      ratios: {
        rps: perRound((i) => w.clusterIP[i].rps / w.direct[i].rps),
        throughput: perRound((i) => bps(t.clusterIP, i) / bps(t.direct, i)),
        p50OverheadSeconds: perRound((i) => w.clusterIP[i].p50 - w.direct[i].p50),
        p99OverheadSeconds: perRound((i) => w.clusterIP[i].p99 - w.direct[i].p99),
      },
    };
  } finally {
    log(`${mode}: svclab down ${LAB_NAME}`);
    await svclab(['down', LAB_NAME], 180_000, true);
  }
}

async function checkTools(): Promise<void> {
  for (const tool of ['wrk', 'curl']) {
    const r = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (r.code !== 0) throw new EnvironmentError(`the mode benchmark needs ${tool} (it runs in the client pod)`, 'sudo bash scripts/setup.sh');
  }
  const st = await svclab(['status', '-o', 'json'], 30_000, true);
  const labs = st.code === 0 ? (JSON.parse(st.stdout) as Array<{ name: string }>) : [];
  if (labs.some((l) => l.name === LAB_NAME)) {
    throw new EnvironmentError(`a lab named ${LAB_NAME} is already up (another benchmark run?)`, `svclab down ${LAB_NAME}`);
  }
}

export async function benchModes(opts: ModesOptions): Promise<ModesResult> {
  requireRoot('the mode benchmark');
  await checkTools();
  const modes = (opts.modes ?? [...MODES]) as BenchMode[];
  for (const m of modes) if (!MODES.includes(m)) throw new EnvironmentError(`unknown mode "${m}"`, `one of ${MODES.join(', ')}`);
  const rounds = opts.rounds ?? 4;
  const wrkSeconds = opts.wrkSeconds ?? 3;
  const out: ModeFigures[] = [];
  const transfers = opts.transfers ?? 5;
  // Interrupted (Ctrl-C, a CI timeout): take the lab down before leaving, as the finally blocks would.
  const onSignal = (sig: NodeJS.Signals) => {
    opts.log(`${sig}: svclab down ${LAB_NAME}`);
    spawnSync(process.execPath, [SVCLAB, 'down', LAB_NAME], { stdio: 'ignore', timeout: 120_000 });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const mode of modes) out.push(await measureMode(mode, rounds, wrkSeconds, transfers, opts.log));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { rounds, wrkSeconds, transfers, modes: out };
}

export interface ModeCheck { target: string; value: string; met: boolean }

export function checkModeTargets(r: ModesResult): ModeCheck[] {
  const out: ModeCheck[] = [];
  for (const m of r.modes) {
    const want = m.mode === 'userspace' ? MODE_TARGETS.userspaceThroughputRatio : MODE_TARGETS.kernelThroughputRatio;
    out.push({ target: `${m.mode} throughput >= ${want} x direct`, value: ratio(m.ratios.throughput), met: m.ratios.throughput >= want });
    if (m.mode === 'userspace') {
      const o = m.ratios.p99OverheadSeconds;
      out.push({ target: `userspace p99 overhead < ${ms(MODE_TARGETS.userspaceP99OverheadSeconds)}`, value: ms(o), met: o < MODE_TARGETS.userspaceP99OverheadSeconds });
    }
  }
  return out;
}

const mbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;

export function modesReport(r: ModesResult): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    `Short requests: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS}, ${r.wrkSeconds} s per run, ${r.rounds} runs per path (medians). 100 MB: curl, ${r.rounds * r.transfers} transfers per path (median).`,
    'Ratios and overheads: per round (direct and ClusterIP back to back), median over rounds.',
    '',
    row(['mode', 'path', 'req/s', 'p50', 'p99', '100 MB', 'req/s vs direct', 'p50 overhead', 'p99 overhead', 'throughput vs direct']),
    row(Array(10).fill('---')),
  ];
  for (const m of r.modes) {
    lines.push(row([m.mode, 'pod -> pod', m.direct.rps.toFixed(0), ms(m.direct.p50), ms(m.direct.p99), mbps(m.direct.bytesPerSecond), '1.00x', '-', '-', '1.00x']));
    lines.push(row([m.mode, 'pod -> ClusterIP', m.clusterIP.rps.toFixed(0), ms(m.clusterIP.p50), ms(m.clusterIP.p99), mbps(m.clusterIP.bytesPerSecond),
      ratio(m.ratios.rps), ms(m.ratios.p50OverheadSeconds), ms(m.ratios.p99OverheadSeconds), ratio(m.ratios.throughput)]));
  }
  lines.push('', ...checkModeTargets(r).map((c) => `${c.met ? 'MET ' : 'MISS'}  ${c.target}: ${c.value}`));
  return lines.join('\n');
}

export function modesJSON(r: ModesResult): object {
  const path = (p: PathFigures) => ({
    rps: round(p.rps, 1),
    p50: round(p.p50, 6),
    p99: round(p.p99, 6),
    bytesPerSecond: Math.round(p.bytesPerSecond),
    samples: {
      rps: p.samples.wrk.map((w) => round(w.rps, 1)),
      p99: p.samples.wrk.map((w) => round(w.p99, 6)),
      bytesPerSecond: p.samples.transfer.map((t) => Math.round(t.bytesPerSecond)),
    },
  });
  return {
    benchmark: 'modes',
    unit: 'requests/s, seconds, bytes/s (medians)',
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => round(l, 2)), kernel: release(), node: process.version },
    load: { wrk: { threads: WRK_THREADS, connections: WRK_CONNECTIONS, seconds: r.wrkSeconds }, transferBytes: TRANSFER_BYTES, transfersPerRound: r.transfers, rounds: r.rounds },
    targets: MODE_TARGETS,
    modes: Object.fromEntries(r.modes.map((m) => [m.mode, {
      direct: path(m.direct),
      clusterIP: path(m.clusterIP),
      ratios: { rps: round(m.ratios.rps, 3), throughput: round(m.ratios.throughput, 3), p50OverheadSeconds: round(m.ratios.p50OverheadSeconds, 6), p99OverheadSeconds: round(m.ratios.p99OverheadSeconds, 6) },
    }])),
    checks: checkModeTargets(r),
  };
}
