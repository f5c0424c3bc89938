// `svclab describe` must print what `kubectl describe` prints: the service
// golden is a real kubectl output (a NodePort service with three endpoints);
// the others follow describe.go field by field, including the tabwriter's
// quirks (the "IPs:/  IP:" block, conditions aligning the lines below them).
process.env.TZ = 'UTC';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeDeployment, describeNode, describePod, describeService, formatEndpointSlices, formatLabels, formatLabelSelector, rfc1123z } from '../../../src/cli/kubectl/describe.ts';
import { tabwrite } from '../../../src/cli/kubectl/tabwriter.ts';
import type { Deployment, EndpointSlice, K8sNode, Pod, Service } from '../../../src/k8s/objects.ts';

const golden = (name: string) => readFileSync(join(import.meta.dirname, `${name}.expected.txt`), 'utf8');

const slice = (addrs: [string, boolean?][], port = 1234, name = ''): EndpointSlice => ({
  addressType: 'IPv4',
  ports: [{ name, port, protocol: 'TCP' }],
  endpoints: addrs.map(([a, ready]) => ({ addresses: [a], conditions: ready === undefined ? {} : { ready } })),
});

test('tabwriter: a column block is a run of lines with a cell there; trailing text is never padded', () => {
  assert.is(tabwrite('a:\tx\nlonger:\ty\n'), 'a:       x\nlonger:  y\n');
  // A line without a tab ends the block: widths before and after are independent.
  assert.is(tabwrite('a:\t1\nbreak\nlonger:\t2\n'), 'a:  1\nbreak\nlonger:  2\n');
  // A nested column only spans the lines that have it (kubectl's "Port:\t<unset>\t80/TCP").
  assert.is(tabwrite('Port:\t<unset>\t80/TCP\nTargetPort:\t80/TCP\n'), 'Port:        <unset>  80/TCP\nTargetPort:  80/TCP\n');
  // Empty cells still take the padding.
  assert.is(tabwrite('Labels:\ta=1\n\tb=2\n'), 'Labels:  a=1\n         b=2\n');
});

test('describe service: a real kubectl output, byte for byte', () => {
  const svc: Service = {
    metadata: { name: 'echo-service', namespace: 'default' },
    spec: {
      selector: { app: 'server' }, type: 'NodePort', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
      clusterIP: '10.102.224.246', clusterIPs: ['10.102.224.246'],
      ports: [{ port: 8888, targetPort: 1234, protocol: 'TCP', nodePort: 30000 }], sessionAffinity: 'None', externalTrafficPolicy: 'Cluster',
    },
  };
  const out = describeService(svc, [slice([['10.240.104.2', true], ['10.240.166.129', true], ['10.240.166.130', true]])]);
  assert.fixture(out, golden('describe-service'));
});

test('describe service: the seed lab shape (named port, labels, internal traffic policy, no endpoints yet)', () => {
  const svc: Service = {
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'blue' } },
    spec: {
      selector: { app: 'nginx' }, type: 'ClusterIP', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'], clusterIP: '10.101.29.104', clusterIPs: ['10.101.29.104'],
      ports: [{ name: '8080-80', port: 8080, targetPort: 80, protocol: 'TCP' }], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
    },
  };
  const lines = describeService(svc, []).split('\n');
  assert.equal(lines.slice(2, 4), ['Labels:                   app=nginx', 'Annotations:              team: blue']);
  assert.ok(lines.includes('Port:                     8080-80  8080/TCP'), lines.join('\n'));
  assert.ok(lines.includes('TargetPort:               80/TCP'));
  assert.ok(lines.includes('Endpoints:                <none>'));
  assert.ok(lines.includes('Internal Traffic Policy:  Cluster'));
});

test('formatEndpointSlices: ready endpoints of the port, three shown, then "+ N more..."', () => {
  const s = slice([['10.0.0.1', true], ['10.0.0.2', false], ['10.0.0.3'], ['10.0.0.4', true], ['10.0.0.5', true]], 80, 'http');
  assert.is(formatEndpointSlices([s], 'http'), '10.0.0.1:80,10.0.0.3:80,10.0.0.4:80 + 1 more...');
  assert.is(formatEndpointSlices([s], 'other'), '');
  assert.is(formatEndpointSlices([], ''), '<none>');
  assert.is(formatEndpointSlices([slice([['10.0.0.2', false]], 80)], ''), '');
});

test('describe pod: kubectl layout with IPs block, container state and conditions table', () => {
  const pod: Pod = {
    metadata: { name: 'web-7854ff8877-wc4dr', namespace: 'default', labels: { app: 'web', 'pod-template-hash': '7854ff8877' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1', controller: true }] },
    spec: { nodeName: 'node-02', priority: 0, serviceAccountName: 'default', containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
    status: {
      phase: 'Running', hostIP: '192.168.49.3', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], startTime: '2026-11-22T00:10:00Z', qosClass: 'BestEffort',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True' })),
      containerStatuses: [{ name: 'nginx', containerID: 'svclab://4711', image: 'nginx', imageID: 'nginx', ready: true, restartCount: 0, state: { running: { startedAt: '2026-11-22T00:10:02Z' } } }],
    },
  };
  assert.fixture(describePod(pod), golden('describe-pod'));
});

test('describe pod: pending, waiting container, no IP', () => {
  const pod: Pod = {
    metadata: { name: 'db-0', namespace: 'default' },
    spec: { containers: [{ name: 'db', image: 'mariadb:10.11', command: ['mariadbd'], args: ['--port=3306'], env: [{ name: 'MARIADB_ROOT_PASSWORD', value: 'lab' }] }] },
    status: { phase: 'Pending', containerStatuses: [{ name: 'db', image: 'mariadb:10.11', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  };
  const out = describePod(pod);
  assert.match(out, /^Node: +<none>$/m);
  assert.match(out, /^IP:\s*$/m);
  assert.match(out, /^IPs: +<none>$/m);
  assert.match(out, /^ {4}Command:\n {6}mariadbd\n {4}Args:\n {6}--port=3306\n/m);
  assert.match(out, /^ {4}State: +Waiting\n {6}Reason: +CrashLoopBackOff\n {4}Ready: +False\n {4}Restart Count: +2\n/m);
  assert.match(out, /^ {4}Environment:\n {6}MARIADB_ROOT_PASSWORD: +lab\n/m);
});

test('describe deployment: pod template at two-space indent, conditions table', () => {
  const d: Deployment = {
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' }, creationTimestamp: '2026-11-22T00:09:00Z' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'nginx' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
    },
    status: {
      replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    },
  };
  assert.fixture(describeDeployment(d), golden('describe-deployment'));
});

test('describe node: addresses, capacity, system info, the pods table', () => {
  const n: K8sNode = {
    metadata: { name: 'node-01', labels: { 'kubernetes.io/hostname': 'node-01', 'node-role.kubernetes.io/control-plane': '' }, creationTimestamp: '2026-11-22T00:00:00Z' },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-11-22T00:20:00Z', lastTransitionTime: '2026-11-22T00:00:05Z', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      addresses: [{ type: 'InternalIP', address: '192.168.49.2' }, { type: 'Hostname', address: 'node-01' }],
      capacity: { cpu: '2', memory: '2Gi', pods: '110' }, allocatable: { cpu: '2', memory: '2Gi', pods: '110' },
      nodeInfo: { kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'svclab://0.1.0', kubeletVersion: 'v1.33.0', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
    },
  };
  const pod: Pod = { metadata: { name: 'web-7854ff8877-wc4dr', namespace: 'default' }, spec: { containers: [] }, status: { phase: 'Running' } };
  assert.fixture(describeNode(n, [pod], Date.parse('2026-11-22T00:20:00Z')), golden('describe-node'));
});

test('label and selector formatting as apimachinery prints them', () => {
  assert.is(formatLabels({ tier: 'db', app: 'web' }), 'app=web,tier=db');
  assert.is(formatLabels({}), '<none>');
  assert.is(formatLabelSelector({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'x', operator: 'DoesNotExist' }] }), 'a=1,b=2,env in (dev,prod),!x');
  assert.is(rfc1123z('2026-01-02T03:04:05Z'), 'Fri, 02 Jan 2026 03:04:05 +0000');
});

test.run();
