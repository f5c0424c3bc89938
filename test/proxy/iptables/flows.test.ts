// Upstream's behaviour tests (runPacketFlowTests): render, load into a fake kernel,
// trace packets. Services, endpoints and expectations are those of proxier_test.go.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FakeProxier, kernelFor, makeService, makeSlice, render, runFlowTests, upstreamSettings,
  testExternalClient, testExternalClientBlocked, testNodeIP, testNodeIPAlt, type FlowTest,
} from './helpers.ts';
import type { EndpointSlice, Service } from '../../../src/k8s/objects.ts';

function expectFlows(kernelOrObjects: ReturnType<typeof kernelFor>, flows: FlowTest[]) {
  const failures = runFlowTests(kernelOrObjects, flows);
  assert.equal(failures, [], failures.join('\n'));
}

const port80 = (name = 'p80') => [{ name, port: 80, protocol: 'TCP' }];

test('TestNoEndpointsReject: ClusterIP, externalIP, NodePort and LB IP all REJECT', () => {
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.41';
    s.spec.externalIPs = ['192.168.99.11'];
    s.spec.ports = [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 3001 }];
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
  });
  const k = kernelFor([svc], []);
  expectFlows(k, [
    { name: 'pod to cluster IP with no endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: 'REJECT' },
    { name: 'external to external IP with no endpoints', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: 'REJECT' },
    { name: 'pod to NodePort with no endpoints', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: 'REJECT' },
    { name: 'external to NodePort with no endpoints', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: 'REJECT' },
    { name: 'pod to LoadBalancer IP with no endpoints', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
    { name: 'external to LoadBalancer IP with no endpoints', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
  ]);
});

test('TestClusterIPGeneral: named ports, multi-port, TCP/UDP/SCTP on one port number, hairpin', () => {
  const svc1 = makeService('ns1', 'svc1', (s) => {
    s.spec.clusterIP = '172.30.0.41';
    s.spec.ports = [{ name: 'http', port: 80, protocol: 'TCP' }];
  });
  const svc2 = makeService('ns2', 'svc2', (s) => {
    s.spec.clusterIP = '172.30.0.42';
    s.spec.ports = [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
      { name: 'dns-udp', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
      { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
    ];
  });
  const slices = [
    makeSlice('ns1', 'svc1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: 'test-node' }];
      e.ports = port80('http');
    }),
    makeSlice('ns2', 'svc2', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: 'test-node' }, { addresses: ['10.180.2.1'], nodeName: 'node2' }];
      e.ports = [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 8443, protocol: 'TCP' },
        { name: 'dns-udp', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
        { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
      ];
    }),
  ];
  expectFlows(kernelFor([svc1, svc2], slices), [
    { name: 'simple clusterIP', sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80' },
    { name: 'hairpin to cluster IP', sourceIP: '10.180.0.1', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: true },
    { name: 'clusterIP with multiple endpoints', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 80, output: '10.180.0.1:80, 10.180.2.1:80' },
    { name: 'clusterIP with TargetPort', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 443, output: '10.180.0.1:8443, 10.180.2.1:8443' },
    { name: 'same port, TCP', sourceIP: '10.180.0.2', protocol: 'TCP', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:5353, 10.180.2.1:5353' },
    { name: 'same port, UDP', sourceIP: '10.180.0.2', protocol: 'UDP', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53' },
    { name: 'same port, SCTP', sourceIP: '10.180.0.2', protocol: 'SCTP', destIP: '172.30.0.42', destPort: 53, output: '10.180.0.1:53, 10.180.2.1:53' },
    { name: 'TCP-only port does not match UDP traffic', sourceIP: '10.180.0.2', protocol: 'UDP', destIP: '172.30.0.42', destPort: 80, output: '' },
    { name: "svc1 does not accept svc2's ports", sourceIP: '10.180.0.2', destIP: '172.30.0.41', destPort: 443, output: '' },
  ]);
});

test('TestLoadBalancer: source ranges gate LB IPs but not the NodePort; the node may use its own LB', () => {
  const ep = '10.180.0.1:80';
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.41';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] };
    s.spec.loadBalancerSourceRanges = ['192.168.0.0/24', ' 203.0.113.0/25'];
  });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => { e.endpoints = [{ addresses: ['10.180.0.1'] }]; e.ports = port80(); });
  expectFlows(kernelFor([svc], [slice]), [
    { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: ep },
    { name: 'external to nodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: ep, masq: true },
    { name: 'nodePort bypasses LoadBalancerSourceRanges', sourceIP: testExternalClientBlocked, destIP: testNodeIP, destPort: 3001, output: ep, masq: true },
    { name: 'accepted external to LB1', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
    { name: 'accepted external to LB2', sourceIP: testExternalClient, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
    { name: 'blocked external to LB1', sourceIP: testExternalClientBlocked, destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
    { name: 'blocked external to LB2', sourceIP: testExternalClientBlocked, destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
    { name: 'pod to LB1 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
    { name: 'pod to LB2 (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
    { name: 'node to LB1 (allowed by LoadBalancerSourceRanges)', sourceIP: testNodeIP, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
    { name: 'node to LB2 (allowed by LoadBalancerSourceRanges)', sourceIP: testNodeIP, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
    { name: 'same node to LB1, SNATted to LB1 (implicitly allowed)', sourceIP: '1.2.3.4', destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
    { name: 'same node to LB2, SNATted to LB2 (implicitly allowed)', sourceIP: '5.6.7.8', destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
  ]);
});

const nodePortCases = [
  { name: 'ipv4, localhost-nodeports enabled', localhostNodePorts: true, nodePortAddresses: [] as string[], allowAltNodeIP: true, expectFirewall: true },
  { name: 'ipv4, localhost-nodeports disabled', localhostNodePorts: false, nodePortAddresses: [], allowAltNodeIP: true, expectFirewall: false },
  { name: 'ipv4, localhost-nodeports disabled, localhost in nodeport-addresses', localhostNodePorts: false,
    nodePortAddresses: ['192.168.0.0/24', '127.0.0.1/32'], allowAltNodeIP: false, expectFirewall: false },
  { name: 'ipv4, localhost-nodeports enabled, multiple nodeport-addresses', localhostNodePorts: false,
    nodePortAddresses: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], allowAltNodeIP: true, expectFirewall: false },
];
for (const tc of nodePortCases) {
  test(`TestNodePorts: ${tc.name}`, () => {
    const svc = makeService('ns1', 'svc1', (s) => {
      s.spec.type = 'NodePort';
      s.spec.clusterIP = '172.30.0.41';
      s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
    });
    const slice = makeSlice('ns1', 'svc1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.2.1'], nodeName: 'test-node' }];
      e.ports = port80();
    });
    const settings = upstreamSettings({ localhostNodePorts: tc.localhostNodePorts, nodePortAddresses: tc.nodePortAddresses });
    const k = kernelFor([svc], [slice], settings);
    const output = '10.180.0.1:80, 10.180.2.1:80';
    const flows: FlowTest[] = [
      { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output },
      { name: 'external to nodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output, masq: true },
      { name: 'node to nodePort', sourceIP: testNodeIP, destIP: testNodeIP, destPort: 3001, output, masq: true },
      tc.localhostNodePorts
        ? { name: 'localhost to nodePort gets masqueraded', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output, masq: true }
        : { name: 'localhost to nodePort is ignored', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output: '' },
      tc.allowAltNodeIP
        ? { name: 'external to nodePort on secondary IP', sourceIP: testExternalClient, destIP: testNodeIPAlt, destPort: 3001, output, masq: true }
        : { name: 'secondary nodeIP ignores NodePorts', sourceIP: testExternalClient, destIP: testNodeIPAlt, destPort: 3001, output: '' },
    ];
    expectFlows(k, flows);
    const firewall = render([svc], [slice], settings).filter.rules.filter((r) => r.chain === 'KUBE-FIREWALL');
    assert.equal(firewall.map((r) => r.args.join(' ')), tc.expectFirewall
      ? ['-m comment --comment block incoming localnet connections -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP']
      : []);
  });
}

test('TestHealthCheckNodePort: accepted with no endpoints, gone with the service', () => {
  const p = new FakeProxier(upstreamSettings({ nodePortAddresses: ['127.0.0.0/8'] }));
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.clusterIP = '172.30.0.42';
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
    s.spec.healthCheckNodePort = 30000;
    s.spec.externalTrafficPolicy = 'Local';
  });
  p.addService(svc);
  p.sync();
  expectFlows(p.kernel, [{ name: 'firewall accepts HealthCheckNodePort', sourceIP: '1.2.3.4', destIP: testNodeIP, destPort: 30000, output: 'ACCEPT' }]);
  p.deleteService(svc);
  p.sync();
  expectFlows(p.kernel, [{ name: 'HealthCheckNodePort no longer has any rule', sourceIP: '1.2.3.4', destIP: testNodeIP, destPort: 30000, output: '' }]);
});

function lbService(etp: 'Local' | 'Cluster'): Service {
  return makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.externalTrafficPolicy = etp;
    s.spec.clusterIP = '172.30.0.41';
    s.spec.externalIPs = ['192.168.99.11'];
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001, targetPort: 80 }];
    if (etp === 'Local') s.spec.healthCheckNodePort = 30000;
    s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
  });
}
const twoEndpoints = (): EndpointSlice => makeSlice('ns1', 'svc1', 1, (e) => {
  e.endpoints = [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.2.1'], nodeName: 'test-node' }];
  e.ports = port80();
});

test('TestExternalTrafficPolicyLocal: external traffic reaches only the local endpoint, unmasqueraded', () => {
  const both = '10.180.0.1:80, 10.180.2.1:80';
  expectFlows(kernelFor([lbService('Local')], [twoEndpoints()]), [
    { name: 'pod to cluster IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
    { name: 'pod to external IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both },
    { name: 'external to external IP hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: '10.180.2.1:80' },
    { name: 'pod to LB IP hits only both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both },
    { name: 'external to LB IP hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.180.2.1:80' },
    { name: 'pod to NodePort hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: both },
    { name: 'external to NodePort hits only local endpoint, unmasqueraded', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: '10.180.2.1:80' },
  ]);
});

test('TestExternalTrafficPolicyCluster: external traffic reaches every endpoint, masqueraded', () => {
  const both = '10.180.0.1:80, 10.180.2.1:80';
  expectFlows(kernelFor([lbService('Cluster')], [twoEndpoints()]), [
    { name: 'pod to cluster IP hits both endpoints, unmasqueraded', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
    { name: 'pod to external IP hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both, masq: true },
    { name: 'external to external IP hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: '192.168.99.11', destPort: 80, output: both, masq: true },
    { name: 'pod to LB IP hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
    { name: 'external to LB IP hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
    { name: 'pod to NodePort hits both endpoints, masqueraded', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: 3001, output: both, masq: true },
    { name: 'external to NodePort hits both endpoints, masqueraded', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: both, masq: true },
  ]);
});

const itpCases = [
  { name: 'internalTrafficPolicy is cluster', itp: 'Cluster', nodes: ['test-node', 'node1', 'node2'], output: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80' },
  { name: 'internalTrafficPolicy is local and there is one local endpoint', itp: 'Local', nodes: ['test-node', 'node1', 'node2'], output: '10.0.1.1:80' },
  { name: 'internalTrafficPolicy is local and there are multiple local endpoints', itp: 'Local', nodes: ['test-node', 'test-node', 'node2'], output: '10.0.1.1:80, 10.0.1.2:80' },
  { name: 'internalTrafficPolicy is local and there are no local endpoints', itp: 'Local', nodes: ['node0', 'node1', 'node2'], output: 'DROP' },
];
for (const tc of itpCases) {
  test(`TestInternalTrafficPolicy: ${tc.name}`, () => {
    const p = new FakeProxier();
    p.sync(); // OnServiceSynced + OnEndpointSlicesSynced: an initial full sync
    p.addService(makeService('ns1', 'svc1', (s) => {
      s.spec.clusterIP = '172.30.1.1';
      s.spec.selector = { foo: 'bar' };
      s.spec.ports = [{ name: '', port: 80, protocol: 'TCP' }];
      s.spec.internalTrafficPolicy = tc.itp;
    }));
    const slice = makeSlice('ns1', 'svc1', 1, (e) => {
      e.ports = [{ name: '', port: 80, protocol: 'TCP' }];
      e.endpoints = tc.nodes.map((n, i) => ({ addresses: [`10.0.1.${i + 1}`], conditions: { ready: true }, nodeName: n }));
    });
    p.addSlice(slice);
    p.sync();
    expectFlows(p.kernel, [{ name: 'pod to ClusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: tc.output }]);
    p.deleteSlice(slice);
    p.sync();
    expectFlows(p.kernel, [{ name: 'endpoints deleted', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' }]);
  });
}

type Cond = [ready: boolean, serving: boolean, terminating: boolean];
const ep = (ip: string, node: string, [ready, serving, terminating]: Cond) => ({ addresses: [ip], conditions: { ready, serving, terminating }, nodeName: node });
const R: Cond = [true, true, false];
const ST: Cond = [false, true, true];
const T: Cond = [false, false, true];

function terminatingCases(etp: 'Local' | 'Cluster') {
  const local = etp === 'Local';
  const other = local ? 'test-node' : 'another-node';
  return [
    {
      name: 'ready endpoints exist',
      endpoints: [ep('10.0.1.1', 'test-node', R), ep('10.0.1.2', 'test-node', R), ep('10.0.1.3', other, ST), ep('10.0.1.4', other, T),
        ep('10.0.1.5', local ? 'node-1' : 'another-node', R)],
      flows: [
        { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80' },
        local
          ? { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.0.1.1:80, 10.0.1.2:80' }
          : { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', masq: true },
      ],
    },
    {
      name: 'only terminating endpoints exist',
      endpoints: [ep('10.0.1.2', 'test-node', ST), ep('10.0.1.3', 'test-node', ST), ep('10.0.1.4', local ? 'test-node' : 'another-node', T),
        ep('10.0.1.5', local ? 'node-1' : 'another-node', local ? R : ST)],
      flows: local
        ? [
          { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: '10.0.1.5:80' },
          { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.0.1.2:80, 10.0.1.3:80' },
        ]
        : [
          { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80' },
          { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', masq: true },
        ],
    },
    {
      name: 'terminating endpoints on remote node',
      endpoints: [ep('10.0.1.5', 'node-1', ST)],
      flows: [
        { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: '10.0.1.5:80' },
        local
          ? { name: 'external to LB, no locally-usable endpoints', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'DROP' }
          : { name: 'external to LB', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: '10.0.1.5:80', masq: true },
      ],
    },
    {
      name: 'no usable endpoints on any node',
      endpoints: [ep('10.0.1.5', 'test-node', T), ep('10.0.1.5', 'node-1', T)],
      flows: [
        { name: 'pod to clusterIP, no usable endpoints', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' },
        { name: 'external to LB, no usable endpoints', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
      ],
    },
  ] as Array<{ name: string; endpoints: unknown[]; flows: FlowTest[] }>;
}

for (const etp of ['Local', 'Cluster'] as const) {
  for (const tc of terminatingCases(etp)) {
    test(`TestTerminatingEndpointsTrafficPolicy${etp}: ${tc.name}`, () => {
      const p = new FakeProxier();
      p.sync();
      p.addService(makeService('ns1', 'svc1', (s) => {
        s.spec.clusterIP = '172.30.1.1';
        s.spec.type = 'LoadBalancer';
        s.spec.externalTrafficPolicy = etp;
        s.spec.ports = [{ name: '', targetPort: 80, port: 80, protocol: 'TCP' }];
        s.spec.healthCheckNodePort = 30000;
        s.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
      }));
      const slice = makeSlice('ns1', 'svc1', 1, (e) => { e.ports = [{ name: '', port: 80, protocol: 'TCP' }]; e.endpoints = tc.endpoints; });
      p.addSlice(slice);
      p.sync();
      expectFlows(p.kernel, tc.flows);
      p.deleteSlice(slice);
      p.sync();
      expectFlows(p.kernel, [
        { name: 'pod to clusterIP after endpoints deleted', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' },
        { name: 'external to LB after endpoints deleted', sourceIP: testExternalClient, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
      ]);
    });
  }
}

test.run();
