import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllocationError, ClusterIPAllocator, NodePortAllocator, parsePortRange, seededRandom } from '../../src/controlplane/allocators.ts';
import { Registry } from '../../src/controlplane/registry.ts';
import { ServiceStrategy } from '../../src/controlplane/service-strategy.ts';
import { ApiError, kubectlErrorText } from '../../src/controlplane/status.ts';
import { Store, type KObj } from '../../src/controlplane/store.ts';

function registry(cidr = '10.96.0.0/12') {
  const services = new ServiceStrategy(new ClusterIPAllocator(cidr, seededRandom(1)), new NodePortAllocator({ base: 30000, size: 2768 }, seededRandom(2)));
  const r = new Registry({ store: new Store(), services });
  r.create('Namespace', undefined, { metadata: { name: 'default' } });
  return r;
}

function svc(name: string, spec: Record<string, unknown>): KObj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

/** The text kubectl would print for what `f` throws. */
function kubectlError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return kubectlErrorText(e.status);
    throw e;
  }
  throw new Error('expected the call to fail');
}

test('the ClusterIP range skips the network and broadcast addresses', () => {
  const a = new ClusterIPAllocator('10.0.0.0/29', seededRandom(3));
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(a.allocateNext());
  assert.equal([...got].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  assert.throws(() => a.allocateNext(), (e: AllocationError) => e.failure === 'full' && e.message === 'range is full');
  assert.throws(() => a.allocate('10.0.0.0'), /not in the valid range/);
  assert.throws(() => a.allocate('10.0.0.7'), /not in the valid range/);
});

test('dynamic ClusterIPs come from the upper band, leaving .1 and .10 for kubernetes and kube-dns', () => {
  const a = new ClusterIPAllocator('10.96.0.0/12', seededRandom(7));
  assert.is(a.nth(1), '10.96.0.1');
  assert.is(a.nth(10), '10.96.0.10');
  // /12 -> offset 256: dynamic allocation starts above 10.96.1.0.
  for (let i = 0; i < 500; i++) {
    const ip = a.allocateNext();
    assert.ok(!(ip.startsWith('10.96.0.') || ip === '10.96.1.0'), `${ip} is in the static band`);
  }
  a.allocate('10.96.0.1');
  a.allocate('10.96.0.10');
});

test('ClusterIP allocator errors carry upstream reasons', () => {
  const a = new ClusterIPAllocator('10.96.0.0/12');
  a.allocate('10.96.0.20');
  assert.throws(() => a.allocate('10.96.0.20'), (e: Error) => e.message === 'provided IP is already allocated');
  assert.throws(() => a.allocate('10.112.0.5'), (e: Error) => e.message === 'the provided IP (10.112.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
  a.release('10.96.0.20');
  a.allocate('10.96.0.20');
});

test('NodePort allocator: range, taken ports and the upper band for dynamic ports', () => {
  const p = new NodePortAllocator(parsePortRange('30000-32767'), seededRandom(5));
  assert.equal(parsePortRange('30000+2768'), { base: 30000, size: 2768 });
  p.allocate(30007);
  assert.throws(() => p.allocate(30007), (e: Error) => e.message === 'provided port is already allocated');
  assert.throws(() => p.allocate(29999), (e: Error) => e.message === 'provided port is not in the valid range. The range of valid ports is 30000-32767');
  assert.throws(() => p.allocate(32768), /not in the valid range/);
  // 2768/32 = 86: dynamic ports start at 30086.
  for (let i = 0; i < 300; i++) assert.ok(p.allocateNext() >= 30086);
});

test('a taken clusterIP is rejected with the exact apiserver text', () => {
  const r = registry();
  r.create('Service', 'default', svc('a', { clusterIP: '10.96.0.50' }));
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('b', { clusterIP: '10.96.0.50' }))),
    'The Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: provided IP is already allocated',
  );
});

test('an out-of-range clusterIP is rejected with the exact apiserver text', () => {
  const r = registry();
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('b', { clusterIP: '172.16.0.5' }))),
    'The Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"172.16.0.5"}: failed to allocate IP 172.16.0.5: the provided IP (172.16.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  );
});

test('nodePort collisions and out-of-range ports use the exact apiserver texts', () => {
  const r = registry();
  r.create('Service', 'default', svc('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] }));
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('web2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] }))),
    'The Service "web2" is invalid: spec.ports[0].nodePort: Invalid value: 30007: provided port is already allocated',
  );
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('web3', { type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] }))),
    'The Service "web3" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
  // The failed creates released what they had allocated (their clusterIPs).
  assert.is(r.services.ips.used, 1);
});

test('defaults: targetPort, protocol, affinity, traffic policies, families', () => {
  const r = registry();
  const s = r.create('Service', 'default', svc('web', { type: 'NodePort' }));
  assert.equal(s.spec.ports[0].targetPort, 80);
  assert.is(s.spec.ports[0].protocol, 'TCP');
  assert.ok(s.spec.ports[0].nodePort >= 30000 && s.spec.ports[0].nodePort <= 32767);
  assert.is(s.spec.sessionAffinity, 'None');
  assert.is(s.spec.externalTrafficPolicy, 'Cluster');
  assert.is(s.spec.internalTrafficPolicy, 'Cluster');
  assert.equal(s.spec.ipFamilies, ['IPv4']);
  assert.is(s.spec.ipFamilyPolicy, 'SingleStack');
  assert.equal(s.spec.clusterIPs, [s.spec.clusterIP]);
  const c = r.create('Service', 'default', svc('plain', { sessionAffinity: 'ClientIP' }));
  assert.is(c.spec.externalTrafficPolicy, undefined);
  assert.equal(c.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('a LoadBalancer gets nodePorts, and a healthCheckNodePort with externalTrafficPolicy Local', () => {
  const r = registry();
  const lb = r.create('Service', 'default', svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
  assert.ok(lb.spec.ports[0].nodePort > 0);
  assert.ok(lb.spec.healthCheckNodePort > 0);
  assert.is(lb.spec.allocateLoadBalancerNodePorts, true);
  assert.is(r.services.nodePorts.used, 2);
  const cl = r.create('Service', 'default', svc('lb2', { type: 'LoadBalancer' }));
  assert.is(cl.spec.healthCheckNodePort, undefined);
});

test('headless services get no clusterIP; NodePort may not be headless', () => {
  const r = registry();
  const h = r.create('Service', 'default', svc('db', { clusterIP: 'None' }));
  assert.is(h.spec.clusterIP, 'None');
  assert.is(r.services.ips.used, 0);
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('np', { type: 'NodePort', clusterIP: 'None' }))),
    'The Service "np" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services',
  );
});

test('validation texts for the mistakes a learner makes', () => {
  const r = registry();
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('two', { ports: [{ port: 80 }, { port: 443 }] }))),
    'The Service "two" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]',
  );
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('cip', { ports: [{ port: 80, nodePort: 30001 }] }))),
    "The Service \"cip\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  );
  assert.is(
    kubectlError(() => r.create('Service', 'default', svc('etp', { externalTrafficPolicy: 'Local' }))),
    'The Service "etp" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
  );
  assert.match(kubectlError(() => r.create('Service', 'default', svc('Bad_Name', {}))), /^The Service "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a DNS-1035 label/);
  assert.is(r.services.ips.used, 0, 'failed creates keep nothing allocated');
});

test('update keeps allocations, the clusterIP is immutable, delete releases', () => {
  const r = registry();
  const s = r.create('Service', 'default', svc('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  // A PUT without the allocated fields keeps them (patchAllocatedValues).
  const again = r.update('Service', 'default', 'web', svc('web', { type: 'NodePort', ports: [{ port: 80 }] }));
  assert.is(again.spec.clusterIP, s.spec.clusterIP);
  assert.is(again.spec.ports[0].nodePort, 30080);
  assert.is(
    kubectlError(() => r.update('Service', 'default', 'web', { ...structuredClone(again), spec: { ...structuredClone(again.spec), clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] } })),
    'The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set',
  );
  // NodePort -> ClusterIP drops and releases the nodePort.
  const cip = r.update('Service', 'default', 'web', { ...structuredClone(again), spec: { ...structuredClone(again.spec), type: 'ClusterIP' } });
  assert.is(cip.spec.ports[0].nodePort, undefined);
  assert.is(cip.spec.externalTrafficPolicy, undefined);
  assert.not.ok(r.services.nodePorts.has(30080));
  r.delete('Service', 'default', 'web');
  assert.not.ok(r.services.ips.has(s.spec.clusterIP));
  r.create('Service', 'default', svc('reuse', { clusterIP: s.spec.clusterIP }));
});

test('ExternalName <-> ClusterIP: the clusterIP is released and allocated again', () => {
  const r = registry();
  const s = r.create('Service', 'default', svc('web', {}));
  const ext = r.update('Service', 'default', 'web', { ...structuredClone(s), spec: { ...structuredClone(s.spec), type: 'ExternalName', externalName: 'example.com' } });
  assert.is(ext.spec.clusterIP, undefined);
  assert.is(ext.spec.ipFamilies, undefined);
  assert.is(r.services.ips.used, 0);
  const back = r.update('Service', 'default', 'web', { ...structuredClone(ext), spec: { ...structuredClone(ext.spec), type: 'ClusterIP', externalName: undefined } });
  assert.ok(r.services.ips.has(back.spec.clusterIP));
  assert.equal(back.spec.ipFamilies, ['IPv4']);
});

test('a GET-modify-PUT round trip changes only what was changed', () => {
  const r = registry();
  const s = r.create('Service', 'default', svc('web', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
  const next = structuredClone(s);
  next.metadata.labels = { x: 'y' };
  const u = r.update('Service', 'default', 'web', next);
  assert.equal(u.spec, s.spec);
  assert.is(u.metadata.labels!.x, 'y');
  assert.throws(() => r.update('Service', 'default', 'web', next), (e: ApiError) => e.reason === 'Conflict', 'the old resourceVersion is stale now');
});

test('the same port number on TCP and UDP shares one nodePort', () => {
  const r = registry();
  const s = r.create('Service', 'default', svc('dns', { type: 'NodePort', ports: [{ name: 'u', port: 53, protocol: 'UDP' }, { name: 't', port: 53, protocol: 'TCP' }] }));
  assert.is(s.spec.ports[0].nodePort, s.spec.ports[1].nodePort);
  assert.is(r.services.nodePorts.used, 1);
});

test.run();
