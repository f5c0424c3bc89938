// A small cluster seen from node-01: DNS (UDP+TCP), a NodePort web service and
// a database with ClientIP affinity. Shared by the text and diff tests.
import { ep, NODE, settings, state, svc } from './fixtures.ts';

export const sampleSettings = settings({ nodeIPs: ['192.168.50.11'], clusterCIDR: '10.244.0.0/16' });

export const sampleState = state([
  [svc('kube-system', 'kube-dns', 'dns', { clusterIP: '10.96.0.10', port: 53, protocol: 'UDP' }), [ep('10.244.1.5', 53, { nodeName: NODE }), ep('10.244.2.5', 53, { nodeName: 'node-02' })]],
  [svc('kube-system', 'kube-dns', 'dns-tcp', { clusterIP: '10.96.0.10', port: 53 }), [ep('10.244.1.5', 53, { nodeName: NODE }), ep('10.244.2.5', 53, { nodeName: 'node-02' })]],
  [svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, nodePort: 30080 }), [ep('10.244.2.7', 8080, { nodeName: 'node-02' }), ep('10.244.1.7', 8080, { nodeName: NODE })]],
  [svc('default', 'db', '', { clusterIP: '10.96.0.30', port: 3306, sessionAffinityClientIP: true, stickyMaxAgeSeconds: 10800 }), [ep('10.244.2.9', 3306, { nodeName: 'node-02' })]],
]);
