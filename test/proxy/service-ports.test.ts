// Services -> service ports (upstream TestBuildServiceMap*, servicechangetracker_test.go).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildServicePorts } from '../../src/proxy/service-ports.ts';
import { makeService } from './iptables/helpers.ts';

const port = (name: string, protocol: string, p: number, nodePort = 0, targetPort = 0) => ({ name, protocol, port: p, nodePort, targetPort });

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

test.run();
