// The proxy loop (upstream's SyncLoop + syncProxyRules' full/partial choice) with a fake
// backend and short real periods: what each sync is asked to write, and when it must be full.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointSlice, Service } from '../../src/k8s/objects.ts';
import { DEFAULT_SETTINGS, type ProxySettings, type ProxyState } from '../../src/proxy/model.ts';
import { Proxier, type ProxyBackend, type SyncOutcome } from '../../src/proxy/proxier.ts';
import { makeService, makeSlice } from './iptables/helpers.ts';

const settings: ProxySettings = { ...DEFAULT_SETTINGS, nodeName: 'node-01', nodeIPs: ['192.168.49.2'] };

/** Records every sync; fails or reports lost kernel state when told to. */
class FakeBackend implements ProxyBackend {
  readonly mode = 'iptables' as const;
  /** Each sync's `changed`, sorted; undefined = full. */
  readonly syncs: Array<string[] | undefined> = [];
  /** Service port keys in the state each sync saw. */
  readonly seen: string[][] = [];
  failNext = false;
  lost = false;

  async setup(): Promise<void> {}
  async cleanup(): Promise<void> {}

  async lostState(): Promise<boolean> {
    const lost = this.lost;
    this.lost = false;
    return lost;
  }

  async sync(state: ProxyState, changed: Set<string> | undefined): Promise<SyncOutcome> {
    this.syncs.push(changed && [...changed].sort());
    this.seen.push([...state.services.keys()].sort());
    if (this.failNext) {
      this.failNext = false;
      throw new Error('restore failed');
    }
    return { full: changed === undefined };
  }
}

function service(name: string, ip: string): Service {
  return makeService('ns', name, (s) => {
    s.spec.clusterIP = ip;
    s.spec.ports = [{ name: 'http', port: 80, protocol: 'TCP' }];
  });
}

function slice(name: string, ips: string[]): EndpointSlice {
  return makeSlice('ns', name, 1, (e) => {
    e.endpoints = ips.map((ip) => ({ addresses: [ip] }));
    e.ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A proxier over a fake backend: syncs at most every 1 ms, periodic ones far away. */
function start(): { proxier: Proxier; backend: FakeBackend; logs: string[] } {
  const backend = new FakeBackend();
  const logs: string[] = [];
  const proxier = new Proxier({ settings, backend, minSyncPeriodMs: 1, syncPeriodMs: 60_000, log: (l) => logs.push(l) });
  return { proxier, backend, logs };
}

/** Both informers listed a and b; the first sync has run. */
async function running(): Promise<ReturnType<typeof start>> {
  const p = start();
  p.proxier.tracker.serviceChanged(service('a', '10.96.0.10'));
  p.proxier.tracker.serviceChanged(service('b', '10.96.0.11'));
  p.proxier.tracker.sliceChanged(slice('a', ['10.244.1.2']));
  p.proxier.markSynced('services');
  p.proxier.markSynced('slices');
  await until('the first sync', () => p.backend.syncs.length === 1);
  return p;
}

/** An informer event, as the daemon delivers it: tracker first, then the sync request. */
function event(proxier: Proxier, change: (p: Proxier) => void): void {
  change(proxier);
  proxier.onChange();
}

test('nothing syncs before both informers have synced; then the first sync is full', async () => {
  const { proxier, backend } = start();
  event(proxier, (p) => p.tracker.serviceChanged(service('a', '10.96.0.10')));
  proxier.markSynced('services');
  event(proxier, (p) => p.tracker.sliceChanged(slice('a', ['10.244.1.2'])));
  await sleep(30);
  assert.equal(backend.syncs.length, 0, 'slices not listed yet');
  proxier.markSynced('slices');
  await until('the first sync', () => backend.syncs.length === 1);
  assert.equal(backend.syncs[0], undefined, 'full');
  assert.equal(backend.seen[0], ['ns/a:http']);
  proxier.stop();
});

test('later syncs are partial, with exactly the service ports that changed', async () => {
  const { proxier, backend } = await running();
  event(proxier, (p) => p.tracker.sliceChanged(slice('b', ['10.244.2.2'])));
  await until('the second sync', () => backend.syncs.length === 2);
  assert.equal(backend.syncs[1], ['ns/b:http']);

  event(proxier, (p) => p.tracker.serviceChanged(service('c', '10.96.0.12')));
  await until('the third sync', () => backend.syncs.length === 3);
  assert.equal(backend.syncs[2], ['ns/c:http']);

  event(proxier, (p) => p.tracker.serviceChanged(service('a', '10.96.0.10')));
  await until('the fourth sync', () => backend.syncs.length === 4);
  assert.equal(backend.syncs[3], [], 'a no-op update: partial, nothing to rewrite');
  assert.equal(proxier.metrics.syncs.get({ kind: 'full' }), 1);
  assert.equal(proxier.metrics.syncs.get({ kind: 'partial' }), 3);
  proxier.stop();
});

test('a failed partial sync is followed by a full one, without waiting for a new event', async () => {
  const { proxier, backend, logs } = await running();
  backend.failNext = true;
  event(proxier, (p) => p.tracker.sliceChanged(slice('b', ['10.244.2.2'])));
  await until('the retry', () => backend.syncs.length === 3);
  assert.equal(backend.syncs.slice(1), [['ns/b:http'], undefined], 'partial (failed), then full');
  assert.ok(logs.some((l) => l.startsWith('sync failed, will retry with a full sync')));

  event(proxier, (p) => p.tracker.sliceChanged(slice('b', ['10.244.2.3'])));
  await until('the next sync', () => backend.syncs.length === 4);
  assert.equal(backend.syncs[3], ['ns/b:http'], 'partial again once a full sync succeeded');
  proxier.stop();
});

test('when the backend lost its kernel state (canary gone) the next sync is full', async () => {
  const { proxier, backend, logs } = await running();
  backend.lost = true;
  event(proxier, (p) => p.tracker.sliceChanged(slice('b', ['10.244.2.2'])));
  await until('the second sync', () => backend.syncs.length === 2);
  assert.equal(backend.syncs[1], undefined);
  assert.ok(logs.some((l) => l.startsWith('canary chain is gone')));
  proxier.stop();
});

test('metrics: events are counted at the sync; pending changes are the ones not dropped as no-ops', async () => {
  const { proxier, backend } = await running();
  const before = proxier.metrics.serviceChangesTotal.get();
  proxier.stop(); // no syncs from here: look at the pending gauges
  event(proxier, (p) => p.tracker.serviceChanged(service('a', '10.96.0.10')));
  event(proxier, (p) => p.tracker.serviceChanged(service('d', '10.96.0.13')));
  assert.equal(proxier.metrics.serviceChangesPending.get(), 1, 'the no-op update of a is not pending');
  assert.equal(before, 2, 'the first sync counted the two listed Services');
  assert.equal(backend.syncs.length, 1);
});

test.run();
