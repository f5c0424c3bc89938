// Services and EndpointSlices of upstream tests, shared by several test files.
import { makeService, makeSlice } from './helpers.ts';

/** Upstream TestOverallIPTablesRules: ClusterIP, LB eTP=Local, NodePort, externalIPs, LB + source ranges + affinity, no endpoints. */
export function overallObjects() {
  const services = [
    makeService('ns1', 'svc1', (svc) => {
      svc.spec.clusterIP = '172.30.0.41';
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
    }),
    makeService('ns2', 'svc2', (svc) => {
      svc.spec.type = 'LoadBalancer';
      svc.spec.externalTrafficPolicy = 'Local';
      svc.spec.clusterIP = '172.30.0.42';
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
      svc.status.loadBalancer = { ingress: [{ ip: '1.2.3.4' }] };
      svc.spec.externalIPs = ['192.168.99.22'];
      svc.spec.healthCheckNodePort = 30000;
    }),
    makeService('ns3', 'svc3', (svc) => {
      svc.spec.type = 'NodePort';
      svc.spec.clusterIP = '172.30.0.43';
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }];
    }),
    makeService('ns4', 'svc4', (svc) => {
      svc.spec.type = 'NodePort';
      svc.spec.clusterIP = '172.30.0.44';
      svc.spec.externalIPs = ['192.168.99.33'];
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }];
    }),
    makeService('ns5', 'svc5', (svc) => {
      svc.spec.type = 'LoadBalancer';
      svc.spec.externalTrafficPolicy = 'Cluster';
      svc.spec.clusterIP = '172.30.0.45';
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }];
      svc.status.loadBalancer = { ingress: [{ ip: '5.6.7.8' }] };
      svc.spec.healthCheckNodePort = 30000;
      // Extra whitespace: invalid but accepted by validation, so it must not crash.
      svc.spec.loadBalancerSourceRanges = [' 203.0.113.0/25'];
      svc.spec.sessionAffinity = 'ClientIP';
      svc.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    }),
    makeService('ns6', 'svc6', (svc) => {
      svc.spec.type = 'ClusterIP';
      svc.spec.clusterIP = '172.30.0.46';
      svc.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }];
    }),
  ];
  const port80 = [{ name: 'p80', port: 80, protocol: 'TCP' }];
  const slices = [
    makeSlice('ns1', 'svc1', 1, (eps) => { eps.endpoints = [{ addresses: ['10.180.0.1'] }]; eps.ports = port80; }),
    // No nodeName: non-local, so the eTP=Local service has no local endpoints.
    makeSlice('ns2', 'svc2', 1, (eps) => { eps.endpoints = [{ addresses: ['10.180.0.2'] }]; eps.ports = port80; }),
    makeSlice('ns3', 'svc3', 1, (eps) => { eps.endpoints = [{ addresses: ['10.180.0.3'] }]; eps.ports = port80; }),
    makeSlice('ns4', 'svc4', 1, (eps) => {
      eps.endpoints = [{ addresses: ['10.180.0.4'] }, { addresses: ['10.180.0.5'], nodeName: 'test-node' }];
      eps.ports = port80;
    }),
    makeSlice('ns5', 'svc5', 1, (eps) => { eps.endpoints = [{ addresses: ['10.180.0.3'] }]; eps.ports = port80; }),
  ];
  return { services, slices };
}

