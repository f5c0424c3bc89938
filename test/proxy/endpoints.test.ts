// EndpointSlices -> endpoints per service port (TestUpdateEndpointsMap expectations, endpointslicecache.go).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointSlice } from '../../src/k8s/objects.ts';
import type { EndpointInfo, ServicePortInfo } from '../../src/proxy/model.ts';
import { buildServicePorts } from '../../src/proxy/service-ports.ts';
import { buildEndpoints, endpointSliceInfo } from '../../src/proxy/endpoints.ts';
import { makeService, makeSlice } from './iptables/helpers.ts';

/** EndpointSlices -> endpoints per service port key, as the proxy reads them. */
const endpointsFromSlices = (slices: EndpointSlice[], services: Map<string, ServicePortInfo>, nodeName: string) =>
  buildEndpoints(slices.map(endpointSliceInfo), services, nodeName);
const port = (name: string, protocol: string, p: number, nodePort = 0, targetPort = 0) => ({ name, protocol, port: p, nodePort, targetPort });

function servicesMap(...ports: ServicePortInfo[][]): Map<string, ServicePortInfo> {
  return new Map(ports.flat().map((p) => [p.key, p]));
}

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

test.run();
