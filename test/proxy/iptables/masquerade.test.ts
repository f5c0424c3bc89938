// Upstream TestInternalExternalMasquerade: who gets masqueraded and which endpoints are
// reachable for every source (pod, node, localhost, external) and destination (ClusterIP,
// NodePort, LB) across eTP/iTP, with and without a local-traffic detector and masqueradeAll.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelFor, makeService, makeSlice, runFlowTests, testExternalClient, testNodeIP, upstreamSettings, type FlowTest } from './helpers.ts';

const services = [
  makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.41';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
    s.spec.healthCheckNodePort = 30001;
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
  }),
  makeService('ns2', 'svc2', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.42';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }];
    s.spec.healthCheckNodePort = 30002;
    s.spec.externalTrafficPolicy = 'Local';
    s.status.loadBalancer = { ingress: [{ ip: '5.6.7.8' }] };
  }),
  makeService('ns3', 'svc3', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.43';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }];
    s.spec.healthCheckNodePort = 30003;
    s.spec.internalTrafficPolicy = 'Local';
    s.status.loadBalancer = { ingress: [{ ip: '9.10.11.12' }] };
  }),
];
const slices = [1, 2, 3].map((i) => makeSlice(`ns${i}`, `svc${i}`, 1, (e) => {
  e.endpoints = [{ addresses: [`10.180.0.${i}`], nodeName: 'test-node' }, { addresses: [`10.180.1.${i}`], nodeName: 'remote' }];
  e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
}));

const all = (i: number) => `10.180.0.${i}:80, 10.180.1.${i}:80`;
const f = (name: string, sourceIP: string, destIP: string, destPort: number, output: string, masq: boolean): FlowTest =>
  ({ name, sourceIP, destIP, destPort, output, masq });

// The normal case: working local detector, no masqueradeAll.
const flowTests: FlowTest[] = [
  f('pod to ClusterIP', '10.0.0.2', '172.30.0.41', 80, all(1), false),
  f('pod to NodePort', '10.0.0.2', testNodeIP, 3001, all(1), true),
  f('pod to LB', '10.0.0.2', '1.2.3.4', 80, all(1), true),
  f('node to ClusterIP', testNodeIP, '172.30.0.41', 80, all(1), true),
  f('node to NodePort', testNodeIP, testNodeIP, 3001, all(1), true),
  f('localhost to NodePort', '127.0.0.1', '127.0.0.1', 3001, all(1), true),
  f('node to LB', testNodeIP, '1.2.3.4', 80, all(1), true),
  f('external to ClusterIP', testExternalClient, '172.30.0.41', 80, all(1), true),
  f('external to NodePort', testExternalClient, testNodeIP, 3001, all(1), true),
  f('external to LB', testExternalClient, '1.2.3.4', 80, all(1), true),
  f('pod to ClusterIP with eTP:Local', '10.0.0.2', '172.30.0.42', 80, all(2), false),
  f('pod to NodePort with eTP:Local', '10.0.0.2', testNodeIP, 3002, all(2), false),
  f('pod to LB with eTP:Local', '10.0.0.2', '5.6.7.8', 80, all(2), false),
  f('node to ClusterIP with eTP:Local', testNodeIP, '172.30.0.42', 80, all(2), true),
  // (upstream's case really targets svc1's NodePort 3001)
  f('node to NodePort with eTP:Local', testNodeIP, testNodeIP, 3001, all(1), true),
  f('localhost to NodePort with eTP:Local', '127.0.0.1', '127.0.0.1', 3002, all(2), true),
  f('node to LB with eTP:Local', testNodeIP, '5.6.7.8', 80, all(2), true),
  f('external to ClusterIP with eTP:Local', testExternalClient, '172.30.0.42', 80, all(2), true),
  f('external to NodePort with eTP:Local', testExternalClient, testNodeIP, 3002, '10.180.0.2:80', false),
  f('external to LB with eTP:Local', testExternalClient, '5.6.7.8', 80, '10.180.0.2:80', false),
  f('pod to ClusterIP with iTP:Local', '10.0.0.2', '172.30.0.43', 80, '10.180.0.3:80', false),
  f('pod to NodePort with iTP:Local', '10.0.0.2', testNodeIP, 3003, all(3), true),
  f('pod to LB with iTP:Local', '10.0.0.2', '9.10.11.12', 80, all(3), true),
  f('node to ClusterIP with iTP:Local', testNodeIP, '172.30.0.43', 80, '10.180.0.3:80', true),
  f('node to NodePort with iTP:Local', testNodeIP, testNodeIP, 3003, all(3), true),
  f('localhost to NodePort with iTP:Local', '127.0.0.1', '127.0.0.1', 3003, all(3), true),
  f('node to LB with iTP:Local', testNodeIP, '9.10.11.12', 80, all(3), true),
  f('external to ClusterIP with iTP:Local', testExternalClient, '172.30.0.43', 80, '10.180.0.3:80', true),
  f('external to NodePort with iTP:Local', testExternalClient, testNodeIP, 3003, all(3), true),
  f('external to LB with iTP:Local', testExternalClient, '9.10.11.12', 80, all(3), true),
];

type Override = { output?: string; masq?: boolean };
const noDetector: Record<string, Override> = {
  // Without a detector all ClusterIP traffic is assumed to come from pods: no masquerade.
  'node to ClusterIP': { masq: false },
  'node to ClusterIP with eTP:Local': { masq: false },
  'node to ClusterIP with iTP:Local': { masq: false },
  'external to ClusterIP': { masq: false },
  'external to ClusterIP with eTP:Local': { masq: false },
  'external to ClusterIP with iTP:Local': { masq: false },
  // ... and there is no eTP:Local short-circuit for pods, so they get only local endpoints.
  'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
  'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
};
const masqAll: Record<string, Override> = {
  'pod to ClusterIP': { masq: true },
  'pod to ClusterIP with eTP:Local': { masq: true },
  'pod to ClusterIP with iTP:Local': { masq: true },
};
const cases = [
  { name: 'base', masqueradeAll: false, clusterCIDR: '10.0.0.0/8', overrides: {} },
  { name: 'no LocalTrafficDetector', masqueradeAll: false, clusterCIDR: '', overrides: noDetector },
  { name: 'masqueradeAll', masqueradeAll: true, clusterCIDR: '10.0.0.0/8', overrides: masqAll },
  {
    name: 'masqueradeAll, no LocalTrafficDetector', masqueradeAll: true, clusterCIDR: '',
    overrides: { ...masqAll, 'pod to NodePort with eTP:Local': noDetector['pod to NodePort with eTP:Local'], 'pod to LB with eTP:Local': noDetector['pod to LB with eTP:Local'] },
  },
];

for (const tc of cases) {
  test(`TestInternalExternalMasquerade: ${tc.name}`, () => {
    const k = kernelFor(services, slices, upstreamSettings({ masqueradeAll: tc.masqueradeAll, clusterCIDR: tc.clusterCIDR }));
    const overrides = tc.overrides as Record<string, Override>;
    const flows = flowTests.map((t) => ({ ...t, ...overrides[t.name] }));
    assert.is(flowTests.filter((t) => overrides[t.name]).length, Object.keys(overrides).length, 'every override names a flow');
    const failures = runFlowTests(k, flows);
    assert.equal(failures, [], failures.join('\n'));
  });
}

test.run();
