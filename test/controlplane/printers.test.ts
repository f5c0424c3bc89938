// The Table printers: rows as upstream's printers.go computes them for the
// same objects (golden cells), the columns kubectl shows, and the Table
// around them (includeObject, headers, negotiation).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_RESOURCES } from '../../src/controlplane/resources.ts';
import { PRINTERS, negotiateTable, tableOptions, toTable } from '../../src/controlplane/printers/index.ts';
import { humanDuration, formatSelector } from '../../src/controlplane/printers/format.ts';
import { ApiError } from '../../src/controlplane/status.ts';
import type { KObj } from '../../src/controlplane/store.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
/** An RFC 3339 time `ago` before NOW. */
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const obj = (kind: string, name: string, rest: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KObj =>
  ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'default', creationTimestamp: ago(300), resourceVersion: '7', ...meta }, ...rest }) as KObj;
const cells = (kind: string, o: KObj) => PRINTERS[kind].row(o, NOW).cells;
const S = 1, M = 60, H = 3600, D = 86400;

test('AGE is apimachinery HumanDuration: seconds to 2m, m+s under 10m, minutes to 3h, h+m under 8h, hours to 2d, d+h to 8d, days to 2y, y+d to 8y', () => {
  const cases: [number, string][] = [
    [0, '0s'], [-1.5 * S, '0s'], [-2.5 * S, '<invalid>'], [119 * S, '119s'], [120 * S, '2m'], [150 * S, '2m30s'],
    [10 * M, '10m'], [179 * M, '179m'], [3 * H, '3h'], [3 * H + 5 * M, '3h5m'], [8 * H, '8h'], [47 * H + 59 * M, '47h'],
    [48 * H, '2d'], [50 * H, '2d2h'], [8 * D, '8d'], [729 * D, '729d'], [730 * D, '2y'], [731 * D, '2y1d'], [8 * 365 * D, '8y'],
  ];
  for (const [s, want] of cases) assert.is(humanDuration(s * 1000), want, `${s}s`);
});

test('every kind the apiserver serves has a printer whose rows fill every column', () => {
  for (const r of API_RESOURCES) {
    const p = PRINTERS[r.kind];
    assert.ok(p, `no printer for ${r.kind}`);
    assert.is(p.columns[0].name, 'Name');
    assert.is(p.columns[0].format, 'name');
    assert.is(p.row(obj(r.kind, 'x'), NOW).cells.length, p.columns.length, r.kind);
  }
});

test('pods: a running ready pod is 1/1 Running with its IP and node in the wide cells', () => {
  const pod = obj('Pod', 'web-1', {
    spec: { nodeName: 'node-02', containers: [{ name: 'nginx' }] },
    status: { phase: 'Running', podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, state: { running: {} } }] },
  });
  assert.equal(cells('Pod', pod), ['web-1', '1/1', 'Running', '0', '5m', '10.244.1.5', 'node-02', '<none>', '<none>']);
  assert.equal(PRINTERS.Pod.columns.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1']);
});

test('pods: STATUS is the waiting reason, restarts say when the last one was, the first container decides', () => {
  const pod = obj('Pod', 'crash', {
    spec: { containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'a', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } },
        { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    },
  });
  assert.equal(cells('Pod', pod).slice(1, 4), ['0/2', 'CrashLoopBackOff', '3 (2m ago)']);
  const pending = obj('Pod', 'p', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Pending' } });
  assert.equal(cells('Pod', pending).slice(1, 4), ['0/1', 'Pending', '0']);
});

test('pods: init containers show Init:N/M, a failed one Init:ExitCode, and sidecars count as containers', () => {
  const spec = { initContainers: [{ name: 'setup' }, { name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] };
  const waiting = obj('Pod', 'i', { spec, status: { phase: 'Pending', initContainerStatuses: [{ name: 'setup', state: { running: {} } }] } });
  assert.equal(cells('Pod', waiting).slice(1, 3), ['0/2', 'Init:0/2']);
  const failed = obj('Pod', 'i', { spec, status: { phase: 'Pending', initContainerStatuses: [{ name: 'setup', restartCount: 1, state: { terminated: { exitCode: 2 } } }] } });
  assert.equal(cells('Pod', failed).slice(1, 4), ['0/2', 'Init:ExitCode:2', '1']);
});

test('pods: Completed with a Completed row condition, Terminating while deleting, Unknown on a lost node', () => {
  const done = obj('Pod', 'job', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } });
  const row = PRINTERS.Pod.row(done, NOW);
  assert.equal(row.cells.slice(1, 3), ['0/1', 'Completed']);
  assert.equal(row.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  const running = { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }] };
  assert.is(cells('Pod', obj('Pod', 't', { spec: { containers: [{ name: 'a' }] }, status: running }, { deletionTimestamp: ago(1) }))[2], 'Terminating');
  assert.is(cells('Pod', obj('Pod', 'u', { spec: { containers: [{ name: 'a' }] }, status: { ...running, reason: 'NodeLost' } }, { deletionTimestamp: ago(1) }))[2], 'Unknown');
});

test('pods: readiness gates count the true conditions they name', () => {
  const pod = obj('Pod', 'g', { spec: { containers: [], readinessGates: [{ conditionType: 'x/a' }, { conditionType: 'x/b' }] }, status: { phase: 'Running', conditions: [{ type: 'x/a', status: 'True' }, { type: 'x/b', status: 'False' }] } });
  assert.is(cells('Pod', pod)[8], '1/2');
});

test('services: ClusterIP, NodePort "80:30007/TCP", LoadBalancer <pending> or its address, ExternalName, headless, no ports', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => cells('Service', obj('Service', 's', { spec, status }));
  assert.equal(svc({ type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ port: 80, protocol: 'TCP' }], selector: { tier: 'web', app: 'shop' } }), ['s', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP', '5m', 'app=shop,tier=web']);
  assert.equal(svc({ type: 'NodePort', clusterIPs: ['10.96.0.21'], ports: [{ port: 80, nodePort: 30007, protocol: 'TCP' }, { port: 53, nodePort: 30053, protocol: 'UDP' }], externalIPs: ['192.168.49.100'] }).slice(1, 5), ['NodePort', '10.96.0.21', '192.168.49.100', '80:30007/TCP,53:30053/UDP']);
  assert.equal(svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.22'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }).slice(3, 5), ['<pending>', '443:31443/TCP']);
  assert.is(svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.22'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example' }] } })[3], '203.0.113.9,lb.example');
  assert.equal(svc({ type: 'ExternalName', externalName: 'db.example.com' }).slice(1, 6), ['ExternalName', '<none>', 'db.example.com', '<none>', '5m']);
  assert.is(svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80, protocol: 'TCP' }] })[2], 'None');
});

test('nodes: Ready or NotReady from the Ready condition, SchedulingDisabled when cordoned, roles from both label forms', () => {
  const node = (labels: Record<string, string>, status: Record<string, unknown>, spec: Record<string, unknown> = {}) => cells('Node', obj('Node', 'n', { spec, status }, { namespace: undefined, labels }));
  const info = { kubeletVersion: 'v1.33.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'svclab://0.1.0' };
  assert.equal(
    node({ 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' }, { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }], nodeInfo: info, addresses: [{ type: 'InternalIP', address: '192.168.49.2' }, { type: 'Hostname', address: 'n' }] }),
    ['n', 'Ready', 'control-plane,edge', '5m', 'v1.33.0', '192.168.49.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'svclab://0.1.0'],
  );
  assert.equal(node({}, { conditions: [{ type: 'Ready', status: 'Unknown' }] }, { unschedulable: true }).slice(1, 3), ['NotReady,SchedulingDisabled', '<none>']);
  assert.equal(node({ 'node-role.kubernetes.io/': '' }, {}).slice(1, 3), ['Unknown', '<none>']);
  assert.equal(node({}, {}).slice(7), ['<unknown>', '<unknown>', '<unknown>']);
});

test('deployments: READY ready/desired, UP-TO-DATE, AVAILABLE, wide CONTAINERS, IMAGES and a sorted SELECTOR', () => {
  const d = obj('Deployment', 'web', {
    spec: { replicas: 3, selector: { matchLabels: { tier: 'front', app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } } },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  });
  assert.equal(cells('Deployment', d), ['web', '2/3', 3, 2, '5m', 'nginx,log', 'nginx:1.27,busybox', 'app=web,env in (dev,prod),tier=front']);
  assert.equal(cells('Deployment', obj('Deployment', 'new', { spec: { replicas: 0 } })).slice(1, 4), ['0/0', 0, 0]);
  assert.is(formatSelector({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }, { key: 'a', operator: 'Exists' }] }), 'a,!b');
});

test('endpoints: ip:port for every port, three at most then "+ N more...", <none> without subsets', () => {
  const ep = (subsets: unknown) => cells('Endpoints', obj('Endpoints', 'e', { subsets }))[1];
  const addrs = ['10.244.0.5', '10.244.1.6'].map((ip) => ({ ip }));
  assert.is(ep([{ addresses: addrs, ports: [{ port: 80 }] }]), '10.244.0.5:80,10.244.1.6:80');
  assert.is(ep([{ addresses: addrs, ports: [{ port: 80 }, { port: 443 }] }]), '10.244.0.5:80,10.244.1.6:80,10.244.0.5:443 + 1 more...');
  assert.is(ep([{ addresses: [{ ip: 'fd00::5' }], ports: [{ port: 80 }] }]), '[fd00::5]:80');
  assert.is(ep([{ addresses: addrs }]), '10.244.0.5,10.244.1.6', 'headless without ports: the addresses alone');
  assert.is(ep(undefined), '<none>');
  assert.is(ep([{ notReadyAddresses: addrs, ports: [{ port: 80 }] }]), '', 'only not-ready addresses: an empty cell, as upstream');
});

test('endpointslices: ports by number, name or "*", addresses with "+ N more...", <unset> when empty', () => {
  const slice = (ports: unknown, endpoints: unknown) => cells('EndpointSlice', obj('EndpointSlice', 'web-abc12', { addressType: 'IPv4', ports, endpoints }));
  const eps = ['10.244.0.5', '10.244.0.6', '10.244.1.7', '10.244.1.8', '10.244.1.9'].map((a) => ({ addresses: [a], conditions: { ready: true } }));
  assert.equal(slice([{ port: 80, name: 'http' }, { name: 'metrics' }, {}], eps), ['web-abc12', 'IPv4', '80,metrics,*', '10.244.0.5,10.244.0.6,10.244.1.7 + 2 more...', '5m']);
  assert.equal(slice([], []).slice(2, 4), ['<unset>', '<unset>']);
  assert.equal(slice([1, 2, 3, 4].map((port) => ({ port })), []).slice(2, 3), ['1,2,3 + 1 more...']);
});

test('namespaces and servicecidrs: STATUS is the phase; CIDRS joined', () => {
  assert.equal(cells('Namespace', obj('Namespace', 'dev', { status: { phase: 'Terminating' } })), ['dev', 'Terminating', '5m']);
  assert.equal(cells('ServiceCIDR', obj('ServiceCIDR', 'kubernetes', { spec: { cidrs: ['10.96.0.0/12', 'fd00:10:96::/108'] } })), ['kubernetes', '10.96.0.0/12,fd00:10:96::/108', '5m']);
});

test("negotiation: kubectl's Accept list gets a v1 Table; JSON first, protobuf-only or another group does not", () => {
  const kubectl = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  assert.equal(negotiateTable(kubectl), { apiVersion: 'meta.k8s.io/v1' });
  assert.equal(negotiateTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), { apiVersion: 'meta.k8s.io/v1beta1' });
  assert.is(negotiateTable('application/json, application/json;as=Table;v=v1;g=meta.k8s.io'), undefined);
  assert.is(negotiateTable('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io'), undefined);
  assert.is(negotiateTable('application/json;as=Table;v=v2;g=meta.k8s.io'), undefined);
  assert.is(negotiateTable(undefined), undefined);
});

test('a Table carries the list metadata, the columns unless left out, and each row object per includeObject', () => {
  const svc = obj('Service', 'web', { spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.9'], ports: [{ port: 80 }] } }, { labels: { app: 'web' } });
  const target = { apiVersion: 'meta.k8s.io/v1' };
  const t = toTable(PRINTERS.Service, [svc], { resourceVersion: '42' }, target, tableOptions(new URLSearchParams()), NOW);
  assert.is(t.kind, 'Table');
  assert.equal(t.metadata, { resourceVersion: '42' });
  assert.equal(t.columnDefinitions!.map((c) => c.name), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  assert.equal(t.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: svc.metadata });
  const none = toTable(PRINTERS.Service, [svc], {}, target, { ...tableOptions(new URLSearchParams('includeObject=None')), noHeaders: true }, NOW);
  assert.is(none.columnDefinitions, null);
  assert.is(none.rows[0].object, null);
  assert.is(toTable(PRINTERS.Service, [svc], {}, target, tableOptions(new URLSearchParams('includeObject=Object')), NOW).rows[0].object, svc);
  assert.throws(() => tableOptions(new URLSearchParams('includeObject=All')), (e: ApiError) => e.code === 400 && e.status.message === 'unrecognized includeObject value: "All"');
});

test.run();
