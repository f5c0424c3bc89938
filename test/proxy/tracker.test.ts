// The change tracker (upstream servicechangetracker_test.go / endpointschangetracker_test.go
// in spirit): per-object {previous, current}, no-op changes dropped, only changed Services
// re-derived, and a snapshot that always equals buildProxyState of the same objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointSlice, Service, ServiceCIDR } from '../../src/k8s/objects.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME } from '../../src/k8s/labels.ts';
import type { ProxyState } from '../../src/proxy/model.ts';
import { ChangeTracker } from '../../src/proxy/tracker.ts';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { makeService, makeSlice } from './iptables/helpers.ts';
import { seededRandom } from '../../src/controlplane/allocators.ts'; // mulberry32: a failure names its seed and replays

const NODE = 'node-01';

function svc(ns: string, name: string, ip: string, ports: Array<[string, number, string?]> = [['http', 80]], more: (s: any) => void = () => {}): Service {
  return makeService(ns, name, (s) => {
    s.spec.clusterIP = ip;
    s.spec.ports = ports.map(([n, p, protocol]) => ({ name: n, port: p, protocol: protocol ?? 'TCP' }));
    more(s);
  });
}

function slice(ns: string, service: string, n: number, ips: Array<[string, string?]>, ports: Array<[string, number, string?]> = [['http', 8080]]): EndpointSlice {
  return makeSlice(ns, service, n, (e) => {
    e.endpoints = ips.map(([ip, node]) => ({ addresses: [ip], ...(node ? { nodeName: node } : {}) }));
    e.ports = ports.map(([name, port, protocol]) => ({ name, port, protocol: protocol ?? 'TCP' }));
  });
}

const sorted = (s: Set<string>) => [...s].sort();

/** The tracker after its first snapshot of these objects. */
function synced(services: Service[], slices: EndpointSlice[]): ChangeTracker {
  const t = new ChangeTracker(NODE);
  for (const s of services) t.serviceChanged(s);
  for (const s of slices) t.sliceChanged(s);
  t.snapshot();
  return t;
}

test('first snapshot: every service port is changed and the state is buildProxyState of the objects', () => {
  const services = [svc('ns', 'a', '10.96.0.10', [['http', 80], ['dns', 53, 'UDP']]), svc('ns', 'b', '10.96.0.11')];
  const slices = [slice('ns', 'a', 1, [['10.244.1.2', NODE]], [['http', 8080], ['dns', 53, 'UDP']]), slice('ns', 'b', 1, [['10.244.2.2']])];
  const t = new ChangeTracker(NODE);
  for (const s of services) t.serviceChanged(s);
  for (const s of slices) t.sliceChanged(s);
  const snap = t.snapshot();
  assert.equal(sorted(snap.changed), ['ns/a:dns', 'ns/a:http', 'ns/b:http']);
  assert.equal(snap.state, buildProxyState({ services, slices }, { nodeName: NODE }));
  assert.equal(snap.work, { services: 2, slices: 2 });
  assert.is(snap.state.endpoints.get('ns/a:http')![0].isLocal, true);
});

test('an update that changes nothing the proxy reads is dropped: nothing pending, nothing re-derived', () => {
  const a = svc('ns', 'a', '10.96.0.10');
  const s1 = slice('ns', 'a', 1, [['10.244.1.2']]);
  const t = synced([a], [s1]);
  const a2 = svc('ns', 'a', '10.96.0.10', [['http', 80]], (s) => { s.metadata.resourceVersion = '42'; s.metadata.annotations = { note: 'x' }; });
  const s2 = slice('ns', 'a', 1, [['10.244.1.2']]);
  (s2.metadata as { resourceVersion?: string }).resourceVersion = '43';
  assert.is(t.serviceChanged(a2), false, 'nothing pending after the service update');
  assert.is(t.sliceChanged(s2), false, 'nothing pending after the slice update');
  assert.equal(t.pendingChanges(), { services: 0, slices: 0, serviceCIDRs: false });
  assert.equal(t.eventsSinceSnapshot(), { services: 1, endpoints: 1 }, 'the events still count (upstream *_changes_total)');
  const snap = t.snapshot();
  assert.equal(snap.changed.size, 0);
  assert.equal(snap.work, { services: 0, slices: 0 });
});

test('an update that returns an object to its previous state before the sync cancels the change', () => {
  const a = svc('ns', 'a', '10.96.0.10');
  const s1 = slice('ns', 'a', 1, [['10.244.1.2']]);
  const t = synced([a], [s1]);
  t.serviceChanged(svc('ns', 'a', '10.96.0.10', [['http', 81]]));
  t.sliceChanged(slice('ns', 'a', 1, [['10.244.1.2'], ['10.244.1.3']]));
  assert.equal(t.pendingChanges(), { services: 1, slices: 1, serviceCIDRs: false });
  t.serviceChanged(a);
  t.sliceChanged(s1);
  assert.equal(t.pendingChanges(), { services: 0, slices: 0, serviceCIDRs: false });
  assert.equal(t.snapshot().changed.size, 0);
});

test('add then delete before a sync cancels; delete of an unknown object is nothing', () => {
  const t = synced([svc('ns', 'a', '10.96.0.10')], []);
  const b = svc('ns', 'b', '10.96.0.11');
  const sb = slice('ns', 'b', 1, [['10.244.1.9']]);
  t.serviceChanged(b);
  t.sliceChanged(sb);
  t.serviceChanged(b, true);
  t.sliceChanged(sb, true);
  t.serviceChanged(svc('ns', 'never', '10.96.0.12'), true);
  assert.is(t.hasPendingChanges(), false);
  const snap = t.snapshot();
  assert.equal(snap.changed.size, 0);
  assert.equal([...snap.state.services.keys()], ['ns/a:http']);
});

test('add, update and delete are merged into the state: exactly the changed keys, each sync', () => {
  const a = svc('ns', 'a', '10.96.0.10');
  const sa = slice('ns', 'a', 1, [['10.244.1.2']]);
  const t = synced([a], [sa]);

  const b = svc('ns', 'b', '10.96.0.11', [['http', 80], ['metrics', 9100]]);
  const sb = slice('ns', 'b', 1, [['10.244.2.2', NODE]], [['http', 8080], ['metrics', 9100]]);
  t.serviceChanged(b);
  t.sliceChanged(sb);
  let snap = t.snapshot();
  assert.equal(sorted(snap.changed), ['ns/b:http', 'ns/b:metrics'], 'an added service: its ports');
  assert.equal(snap.state, buildProxyState({ services: [a, b], slices: [sa, sb] }, { nodeName: NODE }));

  const b2 = svc('ns', 'b', '10.96.0.11', [['http', 80]]);
  t.serviceChanged(b2);
  snap = t.snapshot();
  assert.equal(sorted(snap.changed), ['ns/b:metrics'], 'a removed port; the unchanged port of the same service is not changed');
  assert.equal(snap.state, buildProxyState({ services: [a, b2], slices: [sa, sb] }, { nodeName: NODE }));
  assert.equal(snap.state.endpoints.get('ns/b:metrics')!.map((e) => e.endpoint), ['10.244.2.2:9100'], 'the slice still lists it: endpoints stay');

  t.serviceChanged(a, true);
  t.sliceChanged(sa, true);
  snap = t.snapshot();
  assert.equal(sorted(snap.changed), ['ns/a:http']);
  assert.equal(snap.state, buildProxyState({ services: [b2], slices: [sb] }, { nodeName: NODE }));
  assert.is(snap.state.services.has('ns/a:http'), false);
  assert.is(snap.state.endpoints.has('ns/a:http'), false);
});

test('a slice change marks only its service; other services keep their very objects', () => {
  const a = svc('ns', 'a', '10.96.0.10');
  const b = svc('ns', 'b', '10.96.0.11');
  const sa = slice('ns', 'a', 1, [['10.244.1.2']]);
  const sa2 = slice('ns', 'a', 2, [['10.244.1.3']]);
  const sb = slice('ns', 'b', 1, [['10.244.2.2']]);
  const t = synced([a, b], [sa, sa2, sb]);
  const before = t.snapshot().state;
  const bPort = before.services.get('ns/b:http');
  const bEndpoints = before.endpoints.get('ns/b:http');
  const aPort = before.services.get('ns/a:http');

  t.sliceChanged(slice('ns', 'a', 1, [['10.244.1.2'], ['10.244.1.4']]));
  const snap = t.snapshot();
  assert.equal([...snap.changed], ['ns/a:http']);
  assert.equal(snap.work, { services: 1, slices: 2 }, "one service re-derived, from its own two slices");
  assert.equal(snap.state.endpoints.get('ns/a:http')!.map((e) => e.endpoint), ['10.244.1.2:8080', '10.244.1.3:8080', '10.244.1.4:8080']);
  assert.ok(snap.state.services.get('ns/b:http') === bPort && snap.state.endpoints.get('ns/b:http') === bEndpoints, 'b untouched');
  assert.ok(snap.state.services.get('ns/a:http') === aPort, "a's unchanged service port is not replaced either");
});

test('a slice whose service-name label changes moves its endpoints to the other service', () => {
  const a = svc('ns', 'a', '10.96.0.10');
  const b = svc('ns', 'b', '10.96.0.11');
  const moving = slice('ns', 'a', 1, [['10.244.1.2']]);
  const t = synced([a, b], [moving]);
  const moved = slice('ns', 'a', 1, [['10.244.1.2']]);
  moved.metadata!.labels = { [LABEL_SERVICE_NAME]: 'b' };
  t.sliceChanged(moved);
  const snap = t.snapshot();
  assert.equal(sorted(snap.changed), ['ns/a:http', 'ns/b:http']);
  assert.equal(snap.state, buildProxyState({ services: [a, b], slices: [moved] }, { nodeName: NODE }));
  assert.is(snap.state.endpoints.has('ns/a:http'), false);

  const ignored = slice('ns', 'a', 1, [['10.244.1.2']]);
  ignored.metadata!.labels = { [LABEL_SERVICE_NAME]: 'b', [LABEL_HEADLESS]: '' };
  t.sliceChanged(ignored);
  assert.equal([...t.snapshot().changed], ['ns/b:http'], 'a slice kube-proxy ignores counts as gone');
});

test('ServiceCIDRs: a flag says when they changed; re-adding the same ones is no change', () => {
  const cidr = (name: string, cidrs: string[]): ServiceCIDR => ({ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name }, spec: { cidrs } });
  const t = synced([svc('ns', 'a', '10.96.0.10')], []);
  assert.is(t.serviceCIDRChanged(cidr('kubernetes', ['10.96.0.0/12', 'fd00::/108'])), true);
  let snap = t.snapshot();
  assert.equal([snap.serviceCIDRsChanged, snap.changed.size, snap.state.serviceCIDRs], [true, 0, ['10.96.0.0/12']]);
  t.serviceCIDRChanged(cidr('kubernetes', ['10.96.0.0/12', 'fd00::/100']));
  snap = t.snapshot();
  assert.is(snap.serviceCIDRsChanged, false, 'only the IPv6 range changed, and the proxy keeps IPv4');
  t.serviceCIDRChanged(cidr('extra', ['10.100.0.0/16']));
  t.serviceCIDRChanged(cidr('extra', ['10.100.0.0/16']), true);
  assert.is(t.hasPendingChanges(), false, 'added and deleted before the sync');
  t.serviceCIDRChanged(cidr('kubernetes', []), true);
  snap = t.snapshot();
  assert.equal([snap.serviceCIDRsChanged, snap.state.serviceCIDRs], [true, []]);
});

// -- randomized: the tracker against a rebuild of the same objects ---------------------

function randomObjects(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const names = ['a', 'b', 'c', 'd'];
  const namespaces = ['ns1', 'ns2'];
  const portSets: Array<Array<[string, number, string?]>> = [[['http', 80]], [['http', 80], ['dns', 53, 'UDP']], [['', 80]], [['http', 81]], [['dns', 53, 'TCP']]];
  const service = (): Service => {
    const [ns, name] = [pick(namespaces), pick(names)];
    const ip = pick(['10.96.0.10', '10.96.0.11', 'None', '']);
    return svc(ns, name, ip, pick(portSets), (s) => {
      const r = rand();
      if (r < 0.15) s.spec.type = 'ExternalName';
      else if (r < 0.3) { s.spec.type = 'NodePort'; s.spec.externalTrafficPolicy = 'Local'; s.spec.ports[0].nodePort = 30080; }
      else if (r < 0.4) s.metadata.labels = { [LABEL_HEADLESS]: '' };
      if (rand() < 0.2) s.spec.internalTrafficPolicy = 'Local';
      if (rand() < 0.3) s.metadata.resourceVersion = String(Math.floor(rand() * 1000));
    });
  };
  const endpointSlice = (): EndpointSlice => {
    const ns = pick(namespaces);
    const ips = Array.from({ length: Math.floor(rand() * 3) }, (): [string, string?] => [pick(['10.244.1.2', '10.244.1.3', '10.244.2.2', 'fd00::2']), pick([NODE, 'node-02', undefined])]);
    const s = slice(ns, pick(names), 1 + Math.floor(rand() * 3), ips, pick([[['http', 8080]], [['http', 8080], ['dns', 53, 'UDP']], [['', 8080]], [['dns', 5353, 'TCP']]] as Array<Array<[string, number, string?]>>));
    const r = rand();
    if (r < 0.1) s.metadata!.labels = {};
    else if (r < 0.25) s.metadata!.labels = { [LABEL_SERVICE_NAME]: pick(names) };
    for (const ep of s.endpoints) if (rand() < 0.3) (ep as { conditions?: object }).conditions = { ready: false, serving: rand() < 0.5, terminating: true };
    return s;
  };
  const serviceCIDR = (): ServiceCIDR => ({
    apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: pick(['kubernetes', 'extra']) }, spec: { cidrs: [pick(['10.96.0.0/12', '10.100.0.0/16', 'fd00::/108'])] },
  });
  return { service, endpointSlice, serviceCIDR, rand };
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/** What the previous tracker reported: every service port key whose port or endpoints differ. */
function expectedChanged(before: ProxyState, after: ProxyState): string[] {
  const keys = new Set([...before.services.keys(), ...after.services.keys()]);
  return [...keys].filter((k) =>
    JSON.stringify(before.services.get(k)) !== JSON.stringify(after.services.get(k)) ||
    JSON.stringify(before.endpoints.get(k) ?? []) !== JSON.stringify(after.endpoints.get(k) ?? [])).sort();
}

test('randomized adds, updates and deletes: every snapshot equals buildProxyState, with the same changed keys', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const { service, endpointSlice, serviceCIDR, rand } = randomObjects(seededRandom(seed));
    const services = new Map<string, Service>();
    const slices = new Map<string, EndpointSlice>();
    const cidrs = new Map<string, ServiceCIDR>();
    const t = new ChangeTracker(NODE);
    let last: ProxyState = { services: new Map(), endpoints: new Map(), serviceCIDRs: [] };
    for (let step = 0; step < 150; step++) {
      const r = rand();
      if (r < 0.35) {
        const s = service();
        const del = rand() < 0.3;
        if (del) services.delete(keyOf(s));
        else services.set(keyOf(s), s);
        t.serviceChanged(s, del);
      } else if (r < 0.8) {
        const s = endpointSlice();
        const del = rand() < 0.3;
        if (del) slices.delete(keyOf(s));
        else slices.set(keyOf(s), s);
        t.sliceChanged(s, del);
      } else if (r < 0.85) {
        const c = serviceCIDR();
        const del = rand() < 0.4;
        if (del) cidrs.delete(c.metadata.name!);
        else cidrs.set(c.metadata.name!, c);
        t.serviceCIDRChanged(c, del);
      } else {
        const snap = t.snapshot();
        const want = buildProxyState({ services: [...services.values()], slices: [...slices.values()], serviceCIDRs: [...cidrs.values()] }, { nodeName: NODE });
        assert.equal(snap.state, want, `seed ${seed} step ${step}: state`);
        assert.equal(sorted(snap.changed), expectedChanged(last, want), `seed ${seed} step ${step}: changed keys`);
        assert.is(snap.serviceCIDRsChanged, JSON.stringify(last.serviceCIDRs) !== JSON.stringify(want.serviceCIDRs), `seed ${seed} step ${step}: ServiceCIDRs flag`);
        last = want;
      }
    }
  }
});

test.run();
