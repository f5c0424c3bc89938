// The proxy model: Services -> service ports (upstream TestBuildServiceMap*), EndpointSlices ->
// endpoints (TestUpdateEndpointsMap expectations), topology categorisation (topology.go).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointInfo, ServicePortInfo } from '../../src/proxy/model.ts';
import type { EndpointSlice } from '../../src/k8s/objects.ts';
import { buildServicePorts } from '../../src/proxy/service-ports.ts';
import { buildEndpoints, endpointSliceInfo } from '../../src/proxy/endpoints.ts';
import { categorizeEndpoints } from '../../src/proxy/topology.ts';
import { buildProxyState } from '../../src/proxy/proxy-state.ts';
import { makeService, makeSlice } from './iptables/helpers.ts';

/** EndpointSlices -> endpoints per service port key, as the proxy reads them. */
const endpointsFromSlices = (slices: EndpointSlice[], services: Map<string, ServicePortInfo>, nodeName: string) =>
  buildEndpoints(slices.map(endpointSliceInfo), services, nodeName);
const port = (name: string, protocol: string, p: number, nodePort = 0, targetPort = 0) => ({ name, protocol, port: p, nodePort, targetPort });

function servicesMap(...ports: ServicePortInfo[][]): Map<string, ServicePortInfo> {
  return new Map(ports.flat().map((p) => [p.key, p]));
}

test('TestBuildServiceMapAddRemove: every port of every service, health checks only for LB + eTP=Local', () => {
  const svcs = [
    makeService('somewhere-else', 'cluster-ip', (s) => {
      s.spec.type = 'ClusterIP';
      s.spec.clusterIP = '172.30.55.4';
      s.spec.ports = [port('something', 'UDP', 1234, 4321), port('somethingelse', 'UDP', 1235, 5321), port('sctpport', 'SCTP', 1236, 6321)];
    }),
    makeService('somewhere-else', 'node-port', (s) => {
      s.spec.type = 'NodePort';
      s.spec.clusterIP = '172.30.55.10';
      s.spec.ports = [port('blahblah', 'UDP', 345, 678), port('moreblahblah', 'TCP', 344, 677), port('muchmoreblah', 'SCTP', 343, 676)];
    }),
    makeService('somewhere', 'load-balancer', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.55.11';
      s.spec.loadBalancerIP = '1.2.3.4';
      s.spec.ports = [port('foobar', 'UDP', 8675, 30061, 7000), port('baz', 'UDP', 8676, 30062, 7001)];
      s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
    }),
    makeService('somewhere', 'only-local-load-balancer', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.55.12';
      s.spec.loadBalancerIP = '5.6.7.8';
      s.spec.ports = [port('foobar2', 'UDP', 8677, 30063, 7002), port('baz', 'UDP', 8678, 30064, 7003)];
      s.status.loadBalancer = { ingress: [{ ip: '5.6.7.8' }] };
      s.spec.externalTrafficPolicy = 'Local';
      s.spec.healthCheckNodePort = 345;
    }),
  ];
  const ports = svcs.flatMap((s) => buildServicePorts(s));
  assert.is(ports.length, 10);
  const hc = ports.filter((p) => p.healthCheckNodePort !== 0);
  assert.equal([...new Set(hc.map((p) => `${p.name.namespace}/${p.name.name}=${p.healthCheckNodePort}`))], ['somewhere/only-local-load-balancer=345']);
  const lb = ports.find((p) => p.key === 'somewhere/load-balancer:foobar')!;
  assert.equal(lb.loadBalancerVIPs, ['1.2.3.4']);
  assert.is(lb.nodePort, 30061);
  assert.is(lb.protocol, 'UDP');
});

test('TestBuildServiceMapServiceHeadless / ExternalName / proxy-name labels: skipped', () => {
  const skipped = [
    makeService('somewhere-else', 'headless', (s) => { s.spec.clusterIP = 'None'; s.spec.ports = [port('rpc', 'UDP', 1234)]; }),
    makeService('somewhere-else', 'headless-without-port', (s) => { s.spec.clusterIP = 'None'; }),
    makeService('somewhere-else', 'external-name', (s) => {
      s.spec.type = 'ExternalName';
      s.spec.clusterIP = '172.30.55.4';
      s.spec.externalName = 'foo2.bar.com';
      s.spec.ports = [port('blah', 'UDP', 1235, 5321)];
    }),
    makeService('ns', 'other-proxy', (s) => {
      s.metadata!.labels = { 'service.kubernetes.io/service-proxy-name': 'foo-bar' };
      s.spec.clusterIP = '172.30.55.5';
      s.spec.ports = [port('p', 'TCP', 80)];
    }),
    makeService('ns', 'headless-label', (s) => {
      s.metadata!.labels = { 'service.kubernetes.io/headless': '' };
      s.spec.clusterIP = '172.30.55.6';
      s.spec.ports = [port('p', 'TCP', 80)];
    }),
  ];
  for (const s of skipped) assert.equal(buildServicePorts(s), [], s.metadata!.name);
});

test('TestBuildServiceMapServiceUpdate: ClusterIP -> LoadBalancer eTP=Local gains a health check, and back', () => {
  const v1 = makeService('somewhere', 'some-service', (s) => {
    s.spec.type = 'ClusterIP';
    s.spec.clusterIP = '172.30.55.4';
    s.spec.ports = [port('something', 'UDP', 1234, 4321), port('somethingelse', 'TCP', 1235, 5321)];
  });
  const v2 = makeService('somewhere', 'some-service', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.55.4';
    s.spec.ports = [port('something', 'UDP', 1234, 4321, 7002), port('somethingelse', 'TCP', 1235, 5321, 7003)];
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
    s.spec.externalTrafficPolicy = 'Local';
    s.spec.healthCheckNodePort = 345;
  });
  assert.equal(buildServicePorts(v1).map((p) => p.healthCheckNodePort), [0, 0]);
  assert.equal(buildServicePorts(v2).map((p) => p.healthCheckNodePort), [345, 345]);
  assert.equal(buildServicePorts(v2).map((p) => p.externalPolicyLocal), [true, true]);
});

test('IPv4 family: clusterIPs by ipFamilies, IPv6 externalIPs/LB IPs/ranges dropped, IPv6-only services skipped', () => {
  const dual = makeService('ns', 'dual', (s) => {
    s.spec.clusterIP = 'fd00::10';
    s.spec.clusterIPs = ['fd00::10', '172.30.0.10'];
    s.spec.ipFamilies = ['IPv6', 'IPv4'];
    s.spec.externalIPs = ['2001:db8::1', '192.168.99.1'];
    s.spec.loadBalancerSourceRanges = ['2001:db8::/64', '10.0.0.0/8'];
    s.status.loadBalancer = { ingress: [{ ip: '2001:db8::2' }, { ip: '1.2.3.4' }, { hostname: 'lb.example' }] };
    s.spec.ports = [port('p', 'TCP', 80)];
  });
  const [p] = buildServicePorts(dual);
  assert.is(p.clusterIP, '172.30.0.10');
  assert.equal(p.externalIPs, ['192.168.99.1']);
  assert.equal(p.loadBalancerVIPs, ['1.2.3.4']);
  assert.equal(p.loadBalancerSourceRanges, ['10.0.0.0/8']);
  const v6 = makeService('ns', 'v6', (s) => { s.spec.clusterIP = 'fd00::11'; s.spec.ports = [port('p', 'TCP', 80)]; });
  assert.equal(buildServicePorts(v6), []);
});

test('TestBadIPs at the model level: leading zeros vanish, ranges are trimmed and masked', () => {
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.041';
    s.spec.ports = [port('p80', 'TCP', 80, 3001)];
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.004' }] };
    s.spec.externalIPs = ['192.168.099.022'];
    s.spec.loadBalancerSourceRanges = [' 203.0.113.000/025', '10.1.2.3/8'];
  });
  const [p] = buildServicePorts(svc);
  assert.is(p.clusterIP, '172.30.0.41');
  assert.equal(p.loadBalancerVIPs, ['1.2.3.4']);
  assert.equal(p.externalIPs, ['192.168.99.22']);
  assert.equal(p.loadBalancerSourceRanges, ['203.0.113.0/25', '10.0.0.0/8']);
  assert.is(p.key, 'ns1/svc1:p80');
});

test('ClientIP affinity: timeout from the config, 10800 by default', () => {
  const mk = (timeout?: number) => makeService('ns', 's', (s) => {
    s.spec.clusterIP = '172.30.0.1';
    s.spec.ports = [port('', 'TCP', 80)];
    s.spec.sessionAffinity = 'ClientIP';
    if (timeout) s.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: timeout } };
  });
  assert.equal(buildServicePorts(mk()).map((p) => [p.sessionAffinityClientIP, p.stickyMaxAgeSeconds]), [[true, 10800]]);
  assert.equal(buildServicePorts(mk(60)).map((p) => p.stickyMaxAgeSeconds), [60]);
  assert.is(buildServicePorts(mk())[0].key, 'ns/s', 'an unnamed port has no ":port" in its key');
});

test('eTP=Local only counts for externally accessible services; externallyAccessible is per port', () => {
  const mk = (type: string, externalIPs: string[], nodePort = 0) => makeService('ns', 's', (s) => {
    s.spec.type = type;
    s.spec.clusterIP = '172.30.0.1';
    s.spec.externalIPs = externalIPs;
    s.spec.externalTrafficPolicy = 'Local';
    s.spec.internalTrafficPolicy = 'Local';
    s.spec.ports = [port('p', 'TCP', 80, nodePort)];
  });
  const plain = buildServicePorts(mk('ClusterIP', []))[0];
  assert.equal([plain.externalPolicyLocal, plain.internalPolicyLocal, plain.externallyAccessible], [false, true, false]);
  const withIPs = buildServicePorts(mk('ClusterIP', ['192.168.99.1']))[0];
  assert.equal([withIPs.externalPolicyLocal, withIPs.externallyAccessible], [true, true]);
  const np = buildServicePorts(mk('NodePort', [], 30080))[0];
  assert.equal([np.externalPolicyLocal, np.externallyAccessible, np.nodePort], [true, true, 30080]);
});

// -- EndpointSlices ---------------------------------------------------------------

const summary = (m: Map<string, EndpointInfo[]>) =>
  Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, eps]) => [k, eps.map((e) => `${e.endpoint}${e.isLocal ? ' local' : ''}`)]));

test('TestUpdateEndpointsMap "multiple endpoints, subsets, IPs, and ports": grouped by service-name label and port', () => {
  const subset = (addrs: Array<[string, string?]>, ports: Array<[string, number]>) => (e: any) => {
    e.endpoints = addrs.map(([a, n]) => ({ addresses: [a], ...(n ? { nodeName: n } : {}) }));
    e.ports = ports.map(([name, p]) => ({ name, port: p, protocol: 'UDP' }));
  };
  const slices = [
    makeSlice('ns1', 'ep1', 1, subset([['10.1.1.1'], ['10.1.1.2', 'test-node']], [['p11', 11], ['p12', 12]])),
    makeSlice('ns1', 'ep1', 2, subset([['10.1.1.3'], ['10.1.1.4', 'test-node']], [['p13', 13], ['p14', 14]])),
    makeSlice('ns2', 'ep2', 1, subset([['10.2.2.1'], ['10.2.2.2', 'test-node']], [['p21', 21], ['p22', 22]])),
  ];
  assert.equal(summary(endpointsFromSlices(slices, new Map(), 'test-node')), {
    'ns1/ep1:p11': ['10.1.1.1:11', '10.1.1.2:11 local'],
    'ns1/ep1:p12': ['10.1.1.1:12', '10.1.1.2:12 local'],
    'ns1/ep1:p13': ['10.1.1.3:13', '10.1.1.4:13 local'],
    'ns1/ep1:p14': ['10.1.1.3:14', '10.1.1.4:14 local'],
    'ns2/ep2:p21': ['10.2.2.1:21', '10.2.2.2:21 local'],
    'ns2/ep2:p22': ['10.2.2.1:22', '10.2.2.2:22 local'],
  });
});

test('TestUpdateEndpointsMap "complex add and remove": endpoints sort by their string ("10.1.1.11:11" first)', () => {
  const mk = (ns: string, name: string, n: number, addrs: Array<[string, string?]>, ports: Array<[string, number]>) =>
    makeSlice(ns, name, n, (e) => {
      e.endpoints = addrs.map(([a, node]) => ({ addresses: [a], ...(node ? { nodeName: node } : {}) }));
      e.ports = ports.map(([pn, p]) => ({ name: pn, port: p, protocol: 'UDP' }));
    });
  const after = [
    mk('ns1', 'ep1', 1, [['10.1.1.1'], ['10.1.1.11']], [['p11', 11]]),
    mk('ns1', 'ep1', 2, [['10.1.1.2']], [['p12', 12], ['p122', 122]]),
    mk('ns3', 'ep3', 1, [['10.3.3.3']], [['p33', 33]]),
    mk('ns4', 'ep4', 1, [['10.4.4.4', 'test-node']], [['p44', 44]]),
  ];
  assert.equal(summary(endpointsFromSlices(after, new Map(), 'test-node')), {
    'ns1/ep1:p11': ['10.1.1.11:11', '10.1.1.1:11'],
    'ns1/ep1:p12': ['10.1.1.2:12'],
    'ns1/ep1:p122': ['10.1.1.2:122'],
    'ns3/ep3:p33': ['10.3.3.3:33'],
    'ns4/ep4:p44': ['10.4.4.4:44 local'],
  });
});

test('duplicates across slices collapse, a local copy wins; conditions default to ready/serving', () => {
  const a = makeSlice('ns', 's', 1, (e) => { e.endpoints = [{ addresses: ['10.0.0.1'], nodeName: 'other' }]; e.ports = [{ name: 'p', port: 80, protocol: 'TCP' }]; });
  const b = makeSlice('ns', 's', 2, (e) => {
    e.endpoints = [{ addresses: ['10.0.0.1'], nodeName: 'me' }, { addresses: ['10.0.0.2'], conditions: { ready: false, serving: true, terminating: true } }];
    e.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
  });
  const eps = endpointsFromSlices([a, b], new Map(), 'me').get('ns/s:p')!;
  assert.equal(eps.map((e) => [e.endpoint, e.nodeName, e.isLocal, e.ready, e.serving, e.terminating]), [
    ['10.0.0.1:80', 'me', true, true, true, false],
    ['10.0.0.2:80', '', false, false, true, true],
  ]);
});

test('slices: no service-name label, proxy-name/headless labels, IPv6 or FQDN addresses, other protocols are ignored', () => {
  const svc = makeService('ns', 's', (s) => { s.spec.clusterIP = '172.30.0.1'; s.spec.ports = [port('dns', 'UDP', 53)]; });
  const services = servicesMap(buildServicePorts(svc));
  const ok = makeSlice('ns', 's', 1, (e) => {
    e.endpoints = [{ addresses: ['10.0.0.001'] }, { addresses: ['fd00::1'] }, { addresses: ['db.example.com'] }];
    e.ports = [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns', port: 53, protocol: 'TCP' }];
  });
  const unlabelled = makeSlice('ns', 's', 2, (e) => { e.endpoints = [{ addresses: ['10.0.0.9'] }]; e.ports = [{ name: 'dns', port: 53, protocol: 'UDP' }]; });
  delete (unlabelled.metadata as any).labels;
  const otherProxy = makeSlice('ns', 's', 3, (e) => { e.endpoints = [{ addresses: ['10.0.0.8'] }]; e.ports = [{ name: 'dns', port: 53, protocol: 'UDP' }]; });
  (otherProxy.metadata as any).labels['service.kubernetes.io/service-proxy-name'] = 'x';
  const got = endpointsFromSlices([ok, unlabelled, otherProxy], services, 'me');
  assert.equal(summary(got), { 'ns/s:dns': ['10.0.0.1:53'] });
  assert.is(got.get('ns/s:dns')![0].ip, '10.0.0.1');
});

// -- categorisation ------------------------------------------------------------------

function ep(ip: string, nodeName: string, ready: boolean, serving: boolean, terminating: boolean): EndpointInfo {
  return { ip, port: 80, endpoint: `${ip}:80`, nodeName, zone: '', isLocal: nodeName === 'me', ready, serving, terminating };
}
function svcPort(over: Partial<ServicePortInfo> = {}): ServicePortInfo {
  return {
    name: { namespace: 'ns', name: 's', port: '', protocol: 'TCP' }, key: 'ns/s', clusterIP: '172.30.0.1', port: 80, protocol: 'TCP',
    nodePort: 0, externalIPs: [], loadBalancerVIPs: [], loadBalancerSourceRanges: [], sessionAffinityClientIP: false, stickyMaxAgeSeconds: 0,
    externalPolicyLocal: false, internalPolicyLocal: false, healthCheckNodePort: 0, externallyAccessible: false, ...over,
  };
}
const ips = (eps: EndpointInfo[]) => eps.map((e) => e.ip);

test('categorize: ready endpoints win; without any, serving+terminating ones are used', () => {
  const eps = [ep('10.0.0.1', 'me', true, true, false), ep('10.0.0.2', 'x', false, true, true), ep('10.0.0.3', 'x', false, false, true)];
  const c = categorizeEndpoints(eps, svcPort(), 'me');
  assert.equal([ips(c.clusterEndpoints), ips(c.localEndpoints), ips(c.allReachableEndpoints), c.hasAnyEndpoints], [['10.0.0.1'], [], ['10.0.0.1'], true]);
  const term = categorizeEndpoints(eps.slice(1), svcPort(), 'me');
  assert.equal([ips(term.clusterEndpoints), term.hasAnyEndpoints], [['10.0.0.2'], true]);
  const none = categorizeEndpoints([eps[2]], svcPort(), 'me');
  assert.equal([none.clusterEndpoints.length, none.hasAnyEndpoints], [0, false]);
});

test('categorize: iTP=Local uses only local endpoints; hasAnyEndpoints still sees remote ones', () => {
  const eps = [ep('10.0.0.1', 'x', true, true, false), ep('10.0.0.2', 'y', true, true, false)];
  const c = categorizeEndpoints(eps, svcPort({ internalPolicyLocal: true }), 'me');
  assert.equal([c.clusterEndpoints.length, c.localEndpoints.length, c.allReachableEndpoints.length, c.hasAnyEndpoints], [0, 0, 0, true]);
});

test('categorize: eTP=Local with only local terminating endpoints merges them with the ready remote ones', () => {
  const eps = [ep('10.0.0.1', 'me', false, true, true), ep('10.0.0.2', 'x', true, true, false), ep('10.0.0.3', 'me', false, false, true)];
  const c = categorizeEndpoints(eps, svcPort({ externalPolicyLocal: true, externallyAccessible: true, nodePort: 30000 }), 'me');
  assert.equal(ips(c.clusterEndpoints), ['10.0.0.2']);
  assert.equal(ips(c.localEndpoints), ['10.0.0.1']);
  assert.equal(ips(c.allReachableEndpoints), ['10.0.0.1', '10.0.0.2']);
});

test('buildProxyState: service ports by key, endpoints for this node, ServiceCIDRs flattened', () => {
  const svc = makeService('ns1', 'svc1', (s) => { s.spec.clusterIP = '172.30.0.41'; s.spec.ports = [port('p80', 'TCP', 80)]; });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => { e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: 'n1' }]; e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }]; });
  const state = buildProxyState({
    services: [svc], slices: [slice],
    serviceCIDRs: [{ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/12', 'fd00::/108'] } }],
  }, { nodeName: 'n1' });
  assert.equal([...state.services.keys()], ['ns1/svc1:p80']);
  assert.equal(state.endpoints.get('ns1/svc1:p80')!.map((e) => [e.endpoint, e.isLocal]), [['10.180.0.1:80', true]]);
  assert.equal(state.serviceCIDRs, ['10.96.0.0/12'], 'IPv4 family only');
});

test.run();
