// Which endpoints a node uses per kind of traffic (upstream topology.go CategorizeEndpoints).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EndpointInfo, ServicePortInfo } from '../../src/proxy/model.ts';
import { categorizeEndpoints } from '../../src/proxy/topology.ts';

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

test.run();
