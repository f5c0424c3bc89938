// Tracker benchmark (issue 11): what one sync's snapshot costs after a one-service
// change, at 1,000 and 10,000 services, for the previous algorithm (rebuild the whole
// state with buildProxyState, compare dirty keys by JSON; bench/tracker-previous.ts)
// and the ChangeTracker (re-derive the one changed Service, merge per key), side by
// side in one process: each round runs both, taking turns going first. Pure
// computation: no root, no namespaces. The change is the sync benchmark's: the middle
// Service's EndpointSlice gains a third endpoint, then loses it again.
import { isDeepStrictEqual } from 'node:util';
import type { EndpointSlice, Service } from '../src/k8s/objects.ts';
import { ChangeTracker } from '../src/proxy/tracker.ts';
import type { ProxyState } from '../src/proxy/model.ts';
import { benchObjects, benchSettings, changedIndex, changedKey } from './fixture.ts';
import { PreviousRebuildingTracker } from './tracker-previous.ts';
import { median, ms, ratio, round } from './stats.ts';

export interface TrackerOptions {
  sizes: number[];
  /** Change round trips (there and back) per size; each gives two samples per algorithm. */
  rounds: number;
  log: (line: string) => void;
}

/** What one snapshot did: Services whose ports and endpoints were derived, EndpointSlices read. */
interface Work { services: number; slices: number }

export interface TrackerResult {
  size: number;
  /** The first sync (every object new): events + snapshot, medians of FIRST_SYNC_REPS fresh trackers. */
  first: { previous: number; tracker: number };
  /** One-service change: the slice event + the snapshot, medians in seconds. */
  change: { previous: number; tracker: number; samples: { previous: number[]; tracker: number[] } };
  work: { previous: Work; tracker: Work };
  /** Both reported the same changed keys and equal states after every change. */
  sameResult: boolean;
}

function time<T>(fn: () => T): { s: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

/** The two algorithms behind one interface: load everything, then apply one slice event and snapshot. */
interface Contender {
  first(services: Service[], slices: EndpointSlice[]): { state: ProxyState; changed: Set<string> };
  change(slice: EndpointSlice): { state: ProxyState; changed: Set<string>; work: Work };
}

function previousAlgorithm(size: number): Contender {
  const settings = benchSettings();
  const t = new PreviousRebuildingTracker();
  let last: ProxyState | undefined;
  return {
    first(services, slices) {
      for (const s of services) t.serviceChanged(s);
      for (const s of slices) t.sliceChanged(s);
      const snap = t.snapshot(settings);
      last = snap.state;
      return snap;
    },
    change(slice) {
      t.sliceChanged(slice);
      const snap = t.snapshot(settings, last);
      last = snap.state;
      // Every Service's ports and every slice are derived again on every sync.
      return { ...snap, work: { services: size, slices: size } };
    },
  };
}

function changeTracker(): Contender {
  const t = new ChangeTracker(benchSettings().nodeName);
  return {
    first(services, slices) {
      for (const s of services) t.serviceChanged(s);
      for (const s of slices) t.sliceChanged(s);
      return t.snapshot();
    },
    change(slice) {
      t.sliceChanged(slice);
      return t.snapshot();
    },
  };
}

/** First syncs per size and algorithm, each on a fresh tracker. */
const FIRST_SYNC_REPS = 5;

async function measure(size: number, rounds: number): Promise<TrackerResult> {
  const base = benchObjects(size, false);
  const bumped = benchObjects(size, true).slices[changedIndex(size)];
  const back = base.slices[changedIndex(size)];
  let previous = previousAlgorithm(size);
  let tracker = changeTracker();
  const first = { previous: [] as number[], tracker: [] as number[] };
  let sameResult = true;
  for (let i = 0; i < FIRST_SYNC_REPS; i++) {
    previous = previousAlgorithm(size);
    tracker = changeTracker();
    const order = i % 2 ? [tracker, previous] : [previous, tracker];
    const [a, b] = order.map((c) => time(() => c.first(base.services, base.slices)));
    const [p, t] = i % 2 ? [b, a] : [a, b];
    first.previous.push(p.s);
    first.tracker.push(t.s);
    sameResult &&= isDeepStrictEqual(p.value.state, t.value.state);
  }

  const samples = { previous: [] as number[], tracker: [] as number[] };
  let work: TrackerResult['work'] = { previous: { services: 0, slices: 0 }, tracker: { services: 0, slices: 0 } };
  const want = [changedKey(size)];
  for (let round = 0; round < rounds; round++) {
    for (const slice of [bumped, back]) {
      const order = round % 2 ? (['tracker', 'previous'] as const) : (['previous', 'tracker'] as const);
      const out: Partial<Record<'previous' | 'tracker', ReturnType<Contender['change']>>> = {};
      for (const who of order) {
        const r = time(() => (who === 'previous' ? previous : tracker).change(slice));
        samples[who].push(r.s);
        out[who] = r.value;
      }
      const p = out.previous!;
      const t = out.tracker!;
      sameResult &&= isDeepStrictEqual([...p.changed], want) && isDeepStrictEqual([...t.changed], want);
      // A whole-state comparison costs as much as a rebuild: once per size is enough.
      if (round === 0 && slice === bumped) sameResult &&= isDeepStrictEqual(p.state, t.state);
      work = { previous: p.work, tracker: t.work };
    }
    await new Promise((r) => setImmediate(r)); // let a Ctrl-C in
  }
  return {
    size,
    first: { previous: median(first.previous), tracker: median(first.tracker) },
    change: { previous: median(samples.previous), tracker: median(samples.tracker), samples },
    work,
    sameResult,
  };
}

export async function benchTracker(opts: TrackerOptions): Promise<TrackerResult[]> {
  // Warm-up: a running proxy has synced before; the first size should not pay for the JIT.
  await measure(200, 2);
  const results: TrackerResult[] = [];
  for (const size of opts.sizes) {
    opts.log(`${size} services: tracker, previous algorithm vs ChangeTracker, ${opts.rounds} change round trips`);
    results.push(await measure(size, opts.rounds));
  }
  return results;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const work = (w: Work) => `${plural(w.services, 'service')}, ${plural(w.slices, 'slice')}`;

export function trackerReport(results: TrackerResult[]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    'change tracker: one sync\'s snapshot after a one-service change (previous = rebuild with buildProxyState + JSON compare)',
    '',
    row(['services', 'first sync previous', 'first sync tracker', 'change previous', 'change tracker', 'change speed-up', 'work previous', 'work tracker', 'same result']),
    row(Array(9).fill('---')),
  ];
  for (const r of results) {
    lines.push(row([
      String(r.size), ms(r.first.previous), ms(r.first.tracker), ms(r.change.previous), ms(r.change.tracker),
      ratio(r.change.previous / r.change.tracker), work(r.work.previous), work(r.work.tracker), r.sameResult ? 'yes' : 'NO',
    ]));
  }
  return lines.join('\n');
}

export function trackerJSON(results: TrackerResult[]): object {
  return {
    benchmark: 'tracker',
    unit: 'seconds (change: medians)',
    results: results.map((r) => ({
      services: r.size,
      first: { previous: round(r.first.previous, 6), tracker: round(r.first.tracker, 6) },
      change: { previous: round(r.change.previous, 6), tracker: round(r.change.tracker, 6), speedup: round(r.change.previous / r.change.tracker, 1) },
      work: r.work,
      sameResult: r.sameResult,
    })),
  };
}
