// The `object` and `ranges-disjoint` assertions against a fake API: field
// paths as kubectl's jsonpath reads them, and the overlap fix checked on the
// ranges and on the live addresses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkObject, checkRangesDisjoint, fieldValue } from '../../src/scenario/assertions/objects.ts';
import type { ScenarioContext } from '../../src/scenario/context.ts';
import type { LabLayout } from '../../src/lab/load.ts';

const LAYOUT = (serviceCIDR: string, podCIDRs: string[]): LabLayout => ({
  name: 't', nodeNetwork: '192.168.49.0/24', gateway: '192.168.49.1',
  nodes: podCIDRs.map((podCIDR, i) => ({ name: `node-0${i + 1}`, ip: `192.168.49.${i + 2}`, podCIDR })),
  external: { name: 'external', ip: '192.168.49.254' }, podCIDR: '10.0.0.0/16', serviceCIDR,
  apiServerIP: '', dnsIP: '', nodePortRange: { base: 30000, size: 2768 }, proxyMode: 'iptables', clusterDomain: 'cluster.local',
});

function ctx(layout: LabLayout, objects: Record<string, unknown>, lists: { Pod?: unknown[]; Service?: unknown[] } = {}): ScenarioContext {
  const api = {
    client: { getOrUndefined: async (path: string) => objects[path] },
    list: async (kind: 'Pod' | 'Service') => lists[kind] ?? [],
  };
  return { layout, mode: 'iptables', api, nodes: new Map(), vars: new Map() } as unknown as ScenarioContext;
}

const SVC = { kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], sessionAffinity: 'None' } };

/** uvu has no rejects(): the promise must fail with a message matching `re`. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

test('field paths: dotted names and [n] indices', () => {
  assert.is(fieldValue(SVC, 'spec.ports[0].nodePort'), 30080);
  assert.is(fieldValue(SVC, 'spec.type'), 'NodePort');
  assert.is(fieldValue(SVC, 'spec.ports[1].port'), undefined);
  assert.is(fieldValue(SVC, 'metadata.labels.app'), undefined);
});

test('an object with the wanted fields passes and says what it saw', async () => {
  const c = ctx(LAYOUT('10.96.0.0/12', []), { '/api/v1/namespaces/default/services/web': SVC });
  const msg = await checkObject(c, { kind: 'Service', name: 'web', namespace: 'default', fields: { 'spec.type': 'NodePort', 'spec.ports[0].nodePort': 30080 } });
  assert.is(msg, 'service default/web exists: spec.type=NodePort, spec.ports[0].nodePort=30080');
});

test('a missing object, a wrong field and an unset field each say so', async () => {
  const c = ctx(LAYOUT('10.96.0.0/12', []), { '/api/v1/namespaces/default/services/web': SVC });
  await rejects(() => checkObject(c, { kind: 'Service', name: 'db', namespace: 'default' }), /^service default\/db does not exist$/);
  try {
    await checkObject(c, { kind: 'Service', name: 'web', namespace: 'default', fields: { 'spec.sessionAffinity': 'ClientIP', 'spec.externalTrafficPolicy': 'Local' } });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'service default/web: spec.sessionAffinity is None, not ClientIP; spec.externalTrafficPolicy is not set (want Local)');
  }
});

test('overlapping ranges and a ClusterIP that is a pod IP are each named', async () => {
  const c = ctx(LAYOUT('10.0.0.0/20', ['10.0.1.0/24', '10.0.16.0/24']), {}, {
    Pod: [{ metadata: { namespace: 'default', name: 'legacy-app' }, status: { podIP: '10.0.3.2' } }],
    Service: [{ metadata: { namespace: 'default', name: 'web-svc' }, spec: { clusterIP: '10.0.3.2' } }],
  });
  try {
    await checkRangesDisjoint(c);
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message,
      "the pod CIDR 10.0.0.0/16 overlaps the service CIDR 10.0.0.0/20 on 10.0.0.0/20; node-01's pod range 10.0.1.0/24 overlaps the service CIDR on 10.0.1.0/24; Service default/web-svc has ClusterIP 10.0.3.2, which is pod default/legacy-app's IP");
  }
});

test('disjoint ranges pass', async () => {
  const c = ctx({ ...LAYOUT('10.96.0.0/12', ['10.0.1.0/24']) }, {}, {
    Pod: [{ metadata: { namespace: 'default', name: 'a' }, status: { podIP: '10.0.1.2' } }],
    Service: [{ metadata: { namespace: 'default', name: 'web-svc' }, spec: { clusterIP: '10.96.4.4' } }],
  });
  assert.match(await checkRangesDisjoint(c), /^service CIDR 10\.96\.0\.0\/12 is apart from the pod CIDR 10\.0\.0\.0\/16/);
});

test.run();
