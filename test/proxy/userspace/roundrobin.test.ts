// LoadBalancerRR, after upstream pkg/proxy/userspace/roundrobin_test.go.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoadBalancerRR, NoEndpointsError } from '../../../src/proxy/userspace/roundrobin.ts';

const identity = (e: string[]) => [...e];
const picks = (lb: LoadBalancerRR, key: string, n: number, client = '10.0.0.1') => Array.from({ length: n }, () => lb.nextEndpoint(key, client));

test('TestLoadBalanceFailsWithNoEndpoints: no service or no endpoints is an error', () => {
  const lb = new LoadBalancerRR({ shuffle: identity });
  assert.throws(() => lb.nextEndpoint('ns/svc:p', '10.0.0.1'), (e: unknown) => e instanceof NoEndpointsError);
  lb.newService('ns/svc:p', false, 0);
  lb.setEndpoints('ns/svc:p', []);
  assert.throws(() => lb.nextEndpoint('ns/svc:p', '10.0.0.1'), /missing endpoints/);
});

test('TestLoadBalanceWorksWithMultipleEndpoints: the index rotates through the list', () => {
  const lb = new LoadBalancerRR({ shuffle: identity });
  lb.setEndpoints('ns/svc:p', ['1.2.3.4:1', '1.2.3.4:2', '1.2.3.4:3']);
  assert.equal(picks(lb, 'ns/svc:p', 5), ['1.2.3.4:1', '1.2.3.4:2', '1.2.3.4:3', '1.2.3.4:1', '1.2.3.4:2']);
});

test('an unchanged endpoint set keeps the rotation; a changed one is reshuffled and restarts', () => {
  let shuffles = 0;
  const lb = new LoadBalancerRR({ shuffle: (e) => (shuffles++, [...e].reverse()) });
  lb.setEndpoints('k', ['a:1', 'b:1']);
  assert.equal(picks(lb, 'k', 1), ['b:1']);
  lb.setEndpoints('k', ['b:1', 'a:1']);
  assert.is(shuffles, 1);
  assert.equal(picks(lb, 'k', 1), ['a:1']);
  lb.setEndpoints('k', ['a:1', 'b:1', 'c:1']);
  assert.is(shuffles, 2);
  assert.equal(picks(lb, 'k', 3), ['c:1', 'b:1', 'a:1']);
});

test('TestStickyLoadBalanceWorksWithMultipleEndpoints: each client sticks to the endpoint it got first', () => {
  const lb = new LoadBalancerRR({ shuffle: identity });
  lb.newService('k', true, 10800);
  lb.setEndpoints('k', ['e1:80', 'e2:80', 'e3:80']);
  assert.equal(picks(lb, 'k', 3, 'c1'), ['e1:80', 'e1:80', 'e1:80']);
  assert.equal(picks(lb, 'k', 2, 'c2'), ['e2:80', 'e2:80']);
  assert.equal(picks(lb, 'k', 1, 'c3'), ['e3:80']);
  // A reset (the sticky endpoint failed to dial) takes the next endpoint and re-sticks to it.
  assert.is(lb.nextEndpoint('k', 'c1', true), 'e1:80');
  assert.is(lb.nextEndpoint('k', 'c1'), 'e1:80');
  assert.is(lb.nextEndpoint('k', 'c2', true), 'e2:80');
});

test('TestStickyLoadBalanceWorksWithMultipleEndpointsRemoveOne: clients of a removed endpoint move, others stay', () => {
  const lb = new LoadBalancerRR({ shuffle: identity });
  lb.newService('k', true, 10800);
  lb.setEndpoints('k', ['e1:80', 'e2:80', 'e3:80']);
  const c1 = lb.nextEndpoint('k', 'c1');
  const c2 = lb.nextEndpoint('k', 'c2');
  assert.equal([c1, c2], ['e1:80', 'e2:80']);
  lb.setEndpoints('k', ['e1:80', 'e3:80']);
  assert.is(lb.affinityEntries('k'), 1);
  assert.is(lb.nextEndpoint('k', 'c1'), 'e1:80');
  // c2 lost e2; the new list restarts at index 0.
  assert.is(lb.nextEndpoint('k', 'c2'), 'e1:80');
  assert.is(lb.nextEndpoint('k', 'c3'), 'e3:80');
});

test('affinity expires after the timeout and stale entries are swept', () => {
  let now = 1_000_000;
  const lb = new LoadBalancerRR({ shuffle: identity, now: () => now });
  lb.newService('k', true, 10);
  lb.setEndpoints('k', ['e1:80', 'e2:80']);
  assert.is(lb.nextEndpoint('k', 'c1'), 'e1:80');
  now += 9_999; // 9 whole seconds: still sticky, and the use refreshes it
  assert.is(lb.nextEndpoint('k', 'c1'), 'e1:80');
  now += 10_000;
  lb.cleanupStaleStickySessions('k');
  assert.is(lb.affinityEntries('k'), 0);
  assert.is(lb.nextEndpoint('k', 'c1'), 'e2:80');
});

test('newService with 0 seconds uses the 10800 s default; without affinity nothing is remembered', () => {
  let now = 0;
  const lb = new LoadBalancerRR({ shuffle: identity, now: () => now });
  lb.newService('k', true, 0);
  lb.setEndpoints('k', ['e1:80', 'e2:80']);
  lb.nextEndpoint('k', 'c1');
  now += 10_799_000;
  assert.is(lb.nextEndpoint('k', 'c1'), 'e1:80');
  lb.newService('plain', false, 0);
  lb.setEndpoints('plain', ['e1:80', 'e2:80']);
  picks(lb, 'plain', 3);
  assert.is(lb.affinityEntries('plain'), 0);
});

test.run();
