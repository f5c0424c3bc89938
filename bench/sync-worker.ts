// One case of the sync benchmark, run by bench/sync.ts INSIDE a fresh network
// namespace (`ip netns exec`), so every iptables/nft call below changes only that
// namespace. Prints one JSON line: the raw samples, in seconds.
//
//   node --import tsx bench/sync-worker.ts iptables-nft|iptables-legacy|nftables SIZE FULL_REPS [CHANGE_REPS]
//
// Per repetition, side by side and in alternating order so drifting machine load
// hits both alike:
//  - full sync: the real backend's .sync() on a freshly reset ruleset, and the bare
//    tool (`iptables-restore -w --noflush --counters` / `nft -f -`) fed the identical
//    payload on an identically reset ruleset (the floor);
//  - one-service change: the backend's partial .sync() from base to changed and
//    back, and the bare tool applying the identical two partial payloads.
import { run } from '../src/util/exec.ts';
import { ProxyMetrics } from '../src/proxy/metrics.ts';
import { IptablesBackend, iptablesTools, type IptablesFlavor } from '../src/proxy/iptables/backend.ts';
import { renderIptables } from '../src/proxy/iptables/render.ts';
import { NftablesBackend } from '../src/proxy/nftables/backend.ts';
import { renderNftables, fullTransaction, diffTransaction } from '../src/proxy/nftables/render.ts';
import { benchSettings, benchStates, changedKey } from './fixture.ts';
import { seconds } from './stats.ts';

export type SyncCase = 'iptables-nft' | 'iptables-legacy' | 'nftables';
export const SYNC_CASES: SyncCase[] = ['iptables-nft', 'iptables-legacy', 'nftables'];

export interface CaseSamples {
  case: SyncCase;
  size: number;
  full: { sync: number[]; bare: number[] };
  change: { sync: number[]; bare: number[] };
  /** Payload sizes in bytes (the full transaction, one partial transaction). */
  bytes: { full: number; change: number };
  /** kube-proxy's chains in the kernel after the first full sync: backend vs bare (they must agree). */
  kernelChains: { sync: number; bare: number };
}

interface Driver {
  reset(): Promise<void>;
  newBackend(): Promise<{ sync(full: boolean, toChanged: boolean): Promise<void> }>;
  bare(text: string): Promise<void>;
  fullText: string;
  changeTexts: [string, string];
  countChains(): Promise<number>;
}

/**
 * Chains of family ip that match, from `nft -j list chains ip` (names only: well under a
 * second where listing a 10,000-service table takes half a minute). iptables-nft's
 * chains are nft chains too, in tables nat, filter and mangle.
 */
async function nftChains(match: (c: { table: string; name: string }) => boolean): Promise<number> {
  const r = await run(['nft', '-j', 'list', 'chains', 'ip']);
  const items = (JSON.parse(r.stdout).nftables ?? []) as Array<{ chain?: { table: string; name: string } }>;
  return items.filter((o) => o.chain && match(o.chain)).length;
}

function iptablesDriver(flavor: IptablesFlavor, size: number): Driver {
  const settings = benchSettings();
  const { base, changed } = benchStates(size, settings);
  const key = new Set([changedKey(size)]);
  const tools = iptablesTools(flavor);
  const full = renderIptables(base, settings, {});
  const toChanged = renderIptables(changed, settings, { existingNatChains: [...full.activeNatChains], changed: key });
  const back = renderIptables(base, settings, { existingNatChains: [...toChanged.activeNatChains], changed: key });
  return {
    async reset() {
      if (flavor === 'nft') {
        await run(['nft', 'flush', 'ruleset']);
      } else {
        for (const table of ['mangle', 'nat', 'filter']) {
          await run([tools.iptables, '-w', '-t', table, '-F']);
          await run([tools.iptables, '-w', '-t', table, '-X']);
        }
      }
    },
    async newBackend() {
      const backend = new IptablesBackend(settings, { iptablesBackend: flavor });
      await backend.setup();
      const metrics = new ProxyMetrics();
      return {
        async sync(fullSync, toChangedState) {
          await backend.sync(toChangedState ? changed : base, fullSync ? undefined : key, metrics);
          if (metrics.partialRestoreFailures.get() || metrics.restoreFailures.get()) throw new Error('a restore failed during the benchmark');
        },
      };
    },
    async bare(text) {
      await run([tools.restore, '-w', '--noflush', '--counters'], { input: text });
    },
    fullText: full.text,
    changeTexts: [toChanged.text, back.text],
    async countChains() {
      if (flavor === 'nft') return nftChains((c) => c.name.startsWith('KUBE-'));
      const r = await run([tools.save]);
      return r.stdout.split('\n').filter((l) => l.startsWith(':KUBE-')).length;
    },
  };
}

function nftablesDriver(size: number): Driver {
  const settings = benchSettings();
  const { base, changed } = benchStates(size, settings);
  const key = new Set([changedKey(size)]);
  const rsBase = renderNftables(base, settings);
  const rsChanged = renderNftables(changed, settings);
  return {
    async reset() {
      await run(['nft', 'flush', 'ruleset']);
    },
    async newBackend() {
      const backend = new NftablesBackend(settings);
      await backend.setup();
      const metrics = new ProxyMetrics();
      return {
        async sync(fullSync, toChangedState) {
          await backend.sync(toChangedState ? changed : base, fullSync ? undefined : key, metrics);
        },
      };
    },
    async bare(text) {
      await run(['nft', '-f', '-'], { input: text });
    },
    // After a reset the table does not exist, so the backend's full plan has no `existing`.
    fullText: fullTransaction(rsBase, { recreateBaseChains: true }),
    changeTexts: [diffTransaction(rsBase, rsChanged), diffTransaction(rsChanged, rsBase)],
    countChains: () => nftChains((c) => c.table === 'kube-proxy'),
  };
}

export async function runCase(name: SyncCase, size: number, reps: number, changeReps = reps): Promise<CaseSamples> {
  const d = name === 'nftables' ? nftablesDriver(size) : iptablesDriver(name === 'iptables-legacy' ? 'legacy' : 'nft', size);
  const out: CaseSamples = {
    case: name,
    size,
    full: { sync: [], bare: [] },
    change: { sync: [], bare: [] },
    bytes: { full: Buffer.byteLength(d.fullText), change: Buffer.byteLength(d.changeTexts[0]) },
    kernelChains: { sync: 0, bare: 0 },
  };

  const syncFull = async () => {
    await d.reset();
    const b = await d.newBackend();
    out.full.sync.push((await seconds(() => b.sync(true, false))).s);
    return b;
  };
  const bareFull = async () => {
    await d.reset();
    await d.newBackend(); // the same base chains and jumps the backend starts from (its setup only)
    out.full.bare.push((await seconds(() => d.bare(d.fullText))).s);
  };

  // Alternating which goes first; the last repetition ends with the backend's sync, whose
  // table the one-service changes then start from (a 10k full sync can take minutes).
  let backend!: Awaited<ReturnType<typeof syncFull>>;
  for (let i = 0; i < reps; i++) {
    if ((reps - 1 - i) % 2 === 0) {
      await bareFull();
      if (i === 0) out.kernelChains.bare = await d.countChains();
      backend = await syncFull();
      if (i === 0) out.kernelChains.sync = await d.countChains();
    } else {
      backend = await syncFull();
      if (i === 0) out.kernelChains.sync = await d.countChains();
      await bareFull();
      if (i === 0) out.kernelChains.bare = await d.countChains();
    }
  }

  // One-service change on top of the full table: there and back per repetition.
  const viaBackend = async () => {
    out.change.sync.push((await seconds(() => backend.sync(false, true))).s);
    out.change.sync.push((await seconds(() => backend.sync(false, false))).s);
  };
  const viaBare = async () => {
    out.change.bare.push((await seconds(() => d.bare(d.changeTexts[0]))).s);
    out.change.bare.push((await seconds(() => d.bare(d.changeTexts[1]))).s);
  };
  // Both leave the kernel (and the backend's memory of it) at the base state.
  for (let i = 0; i < changeReps; i++) {
    if (i % 2 === 0) await viaBackend(), await viaBare();
    else await viaBare(), await viaBackend();
  }
  await d.reset();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, size, reps, changeReps] = process.argv.slice(2);
  if (!(SYNC_CASES as string[]).includes(name)) throw new Error(`unknown case "${name}" (${SYNC_CASES.join(', ')})`);
  const samples = await runCase(name as SyncCase, Number(size), Number(reps), Number(changeReps ?? reps));
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}
