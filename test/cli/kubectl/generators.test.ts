// The objects `svclab expose` / `create service` / `create deployment` build
// must be kubectl's: cases from kubectl's own tests (expose_test.go
// TestRunExposeService, create_service_test.go TestCreateServices,
// create_deployment_test.go) and the `--dry-run=client -o yaml` text kubectl
// 1.33 prints for the seed article's commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerNameFromImage, createDeployment, createService, exposeService, KubectlError, parseTcpPort, wireObject } from '../../../src/cli/kubectl/generators.ts';
import { printResult, toKubectlYaml } from '../../../src/cli/kubectl/print.ts';
import type { Deployment, Pod, Service } from '../../../src/k8s/objects.ts';

const nginx = (): Deployment => createDeployment('nginx', { images: ['nginx'] });

test('seed: `create deployment nginx --image nginx --dry-run=client -o yaml` prints kubectl\'s YAML', () => {
  assert.is(toKubectlYaml(nginx()), `apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: nginx
  name: nginx
spec:
  replicas: 1
  selector:
    matchLabels:
      app: nginx
  strategy: {}
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - image: nginx
        name: nginx
        resources: {}
status: {}
`);
});

test('seed: `expose deployment nginx --port=8080 --target-port=80 --type=ClusterIP` takes selector and labels from the deployment', () => {
  const svc = exposeService(nginx(), { port: '8080', targetPort: '80', type: 'ClusterIP' });
  assert.is(printResult(svc, 'exposed', undefined), 'service/nginx exposed\n');
  assert.is(toKubectlYaml(svc), `apiVersion: v1
kind: Service
metadata:
  labels:
    app: nginx
  name: nginx
spec:
  ports:
  - port: 8080
    protocol: TCP
    targetPort: 80
  selector:
    app: nginx
  type: ClusterIP
status:
  loadBalancer: {}
`);
});

test('seed: `create service clusterip nginx --tcp=8080:80` names the port "8080-80" and selects app=nginx', () => {
  const svc = createService('ClusterIP', 'nginx', { tcp: ['8080:80'] });
  assert.is(printResult(svc, 'created', undefined), 'service/nginx created\n');
  assert.is(toKubectlYaml(svc), `apiVersion: v1
kind: Service
metadata:
  labels:
    app: nginx
  name: nginx
spec:
  ports:
  - name: 8080-80
    port: 8080
    protocol: TCP
    targetPort: 80
  selector:
    app: nginx
  type: ClusterIP
status:
  loadBalancer: {}
`);
  // The two ways differ exactly as the seed article says: expose's port has no name.
  const exposed = exposeService(nginx(), { port: '8080', targetPort: '80', type: 'ClusterIP' });
  assert.is(exposed.spec!.ports![0].name, undefined);
  assert.equal(exposed.spec!.selector, svc.spec!.selector);
});

test('expose: targetPort defaults to port; protocol and port come from the only container port', () => {
  const d = createDeployment('dns', { images: ['coredns/coredns:1.11'], port: 53 });
  d.spec!.template.spec!.containers[0].ports![0].protocol = 'UDP';
  const svc = exposeService(d, {});
  assert.equal(svc.spec!.ports, [{ protocol: 'UDP', port: 53, targetPort: 53 }]);
  assert.equal(exposeService(d, { port: '5353' }).spec!.ports, [{ protocol: 'TCP', port: 5353, targetPort: 5353 }]);
  assert.equal(exposeService(d, { port: '53', protocol: 'TCP', targetPort: 'dns' }).spec!.ports, [{ protocol: 'TCP', port: 53, targetPort: 'dns' }]);
});

test('expose: kubectl test cases (expose_test.go) — service source, labels, affinity, headless, multi-port and multi-protocol', () => {
  const baz: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'baz', namespace: 'test' }, spec: { selector: { app: 'go' } } };
  // expose-service-from-service-no-selector-defined
  let s = exposeService(baz, { protocol: 'UDP', port: '14', name: 'foo', labels: 'svc=test' });
  assert.equal(s.metadata, { name: 'foo', labels: { svc: 'test' } });
  assert.equal(s.spec, { ports: [{ protocol: 'UDP', port: 14, targetPort: 14 }], selector: { app: 'go' } });
  // expose-affinity-service
  s = exposeService(baz, { selector: 'func=stream', protocol: 'UDP', port: '14', name: 'foo', labels: 'svc=test', type: 'LoadBalancer', sessionAffinity: 'ClientIP' });
  assert.equal(s.spec, { ports: [{ protocol: 'UDP', port: 14, targetPort: 14 }], selector: { func: 'stream' }, type: 'LoadBalancer', sessionAffinity: 'ClientIP' });
  // expose-headless-service-no-port
  s = exposeService(baz, { selector: 'func=stream', name: 'foo', labels: 'svc=test', clusterIP: 'None' });
  assert.equal(s.spec, { ports: [], selector: { func: 'stream' }, clusterIP: 'None' });
  // expose-multiprotocol-object: one Service port per source port, named port-N
  const foo: Service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'foo', labels: { svc: 'multiport' } },
    spec: { ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 8080 }, { protocol: 'UDP', port: 8081 }, { protocol: 'SCTP', port: 8082 }] },
  };
  s = exposeService(foo, { selector: 'svc=fromfoo', name: 'fromfoo' });
  assert.equal(s.metadata!.labels, { svc: 'multiport' });
  assert.equal(s.spec!.ports, [
    { name: 'port-1', protocol: 'TCP', port: 80, targetPort: 80 },
    { name: 'port-2', protocol: 'UDP', port: 8080, targetPort: 8080 },
    { name: 'port-3', protocol: 'UDP', port: 8081, targetPort: 8081 },
    { name: 'port-4', protocol: 'SCTP', port: 8082, targetPort: 8082 },
  ]);
  // truncate-name: a Service name is a DNS-1035 label, at most 63 characters
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a-name-that-is-toooo-big-for-a-service-because-it-can-only-handle-63-characters' } };
  s = exposeService(pod, { selector: 'svc=frompod', port: '90', labels: 'svc=frompod' });
  assert.is(printResult(s, 'exposed', undefined), 'service/a-name-that-is-toooo-big-for-a-service-because-it-can-only-hand exposed\n');
});

test('expose: one container port served over TCP and UDP becomes port-1-tcp and port-1-udp', () => {
  const d = nginx();
  d.spec!.template.spec!.containers[0].ports = [{ containerPort: 53, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }];
  // Two ports found ("53", "53"), so each source port is numbered.
  const svc = exposeService(d, {});
  assert.equal(svc.spec!.ports!.map((p) => p.name), ['port-1-tcp', 'port-1-udp', 'port-2-tcp', 'port-2-udp']);
  assert.equal(exposeService(d, { port: '53' }).spec!.ports!.map((p) => `${p.name}:${p.protocol}`), ['port-1-tcp:TCP', 'port-1-udp:UDP']);
});

test('expose: the errors kubectl gives', () => {
  const noPorts = nginx();
  assert.throws(() => exposeService(noPorts, {}), (e: Error) => e instanceof KubectlError && e.message === "couldn't find port via --port flag or introspection");
  const exprs = nginx();
  exprs.spec!.selector.matchExpressions = [{ key: 'tier', operator: 'In', values: ['web', 'api'] }];
  assert.throws(() => exposeService(exprs, { port: '80' }), /^couldn't retrieve selectors via --selector flag or introspection: couldn't convert expressions - "\[\{Key:tier Operator:In Values:\[web api\]\}\]" to map-based selector format$/);
  assert.throws(() => exposeService({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, { port: '80' }), /the pod has no labels and cannot be exposed/);
  assert.throws(() => exposeService(nginx(), { port: 'http' }), /strconv.Atoi: parsing "http": invalid syntax/);
  assert.throws(() => exposeService(nginx(), { port: '80', sessionAffinity: 'Sticky' }), /unknown session affinity: Sticky/);
  assert.throws(() => exposeService({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }, { port: '80' }), /cannot expose a Node/);
});

test('expose --node-port (svclab addition) sets the one port\'s nodePort', () => {
  const svc = exposeService(nginx(), { port: '80', type: 'NodePort', nodePort: 30080 });
  assert.equal(svc.spec!.ports, [{ protocol: 'TCP', port: 80, targetPort: 80, nodePort: 30080 }]);
  assert.equal(svc.spec!.type, 'NodePort');
});

test('create service: kubectl test cases (create_service_test.go TestCreateServices)', () => {
  const ok = createService('ClusterIP', 'clusterip-ok', { tcp: ['456', '321:908'] });
  assert.equal(ok.metadata, { name: 'clusterip-ok', labels: { app: 'clusterip-ok' } });
  assert.equal(ok.spec, {
    ports: [{ name: '456', protocol: 'TCP', port: 456, targetPort: 456 }, { name: '321-908', protocol: 'TCP', port: 321, targetPort: 908 }],
    selector: { app: 'clusterip-ok' },
    type: 'ClusterIP',
  });
  assert.equal(createService('ClusterIP', 'h', { tcp: [], clusterIP: 'None' }).spec, { ports: [], selector: { app: 'h' }, clusterIP: 'None', type: 'ClusterIP' });
  assert.equal(createService('NodePort', 'my-node-port-service-ok', { tcp: ['443:https', '30000:8000'] }).spec!.ports, [
    { name: '443-https', protocol: 'TCP', port: 443, targetPort: 'https' },
    { name: '30000-8000', protocol: 'TCP', port: 30000, targetPort: 8000 },
  ]);
  assert.equal(createService('NodePort', 'np', { tcp: ['80:http'], nodePort: 4444 }).spec!.ports, [{ name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 4444 }]);
  const ext = createService('ExternalName', 'externalname-ok', { tcp: ['123'], externalName: 'www.externalname.com' });
  assert.is(ext.spec!.externalName, 'www.externalname.com');
  // A StringSlice flag: commas split too.
  assert.is(createService('ClusterIP', 'x', { tcp: ['80:8080,443:8443'] }).spec!.ports!.length, 2);

  assert.throws(() => createService('ClusterIP', 'clusterip-missing', { tcp: [] }), /at least one tcp port specifier must be provided/);
  assert.throws(() => createService('NodePort', 'w', { tcp: ['123'], clusterIP: 'None' }), /ClusterIP=None can only be used with ClusterIP service type/);
  assert.throws(() => createService('ClusterIP', 'bad', { tcp: ['65536'] }), /value out of range/);
  assert.throws(() => createService('ClusterIP', 'bad', { tcp: ['8080:-abc'] }), /must not begin or end with a hyphen/);
  assert.throws(() => createService('ExternalName', 'bad', { tcp: ['123'], externalName: '@oi:test' }), /invalid service external name @oi:test/);
});

test('--tcp parsing: numbers, names and kubectl\'s messages', () => {
  assert.equal(parseTcpPort('5678:8080'), { port: 5678, targetPort: 8080 });
  assert.equal(parseTcpPort('53'), { port: 53, targetPort: 53 });
  assert.throws(() => parseTcpPort('80:0'), /must be between 1 and 65535, inclusive/);
  assert.throws(() => parseTcpPort('abc:80'), /strconv.ParseUint: parsing "abc": invalid syntax/);
  assert.throws(() => parseTcpPort('80:Http'), /must contain only alpha-numeric characters/);
});

test('create deployment: container names, ports, replicas and command as create_deployment.go builds them', () => {
  assert.is(containerNameFromImage('nginx'), 'nginx');
  assert.is(containerNameFromImage('docker.io/library/nginx:1.27'), 'nginx');
  assert.is(containerNameFromImage('registry.k8s.io/e2e-test-images/agnhost@sha256:abc'), 'agnhost');
  // "." and "_" are not allowed in a container name: replaced, plus a random suffix.
  assert.is(containerNameFromImage('hollywood/jonny.depp:v2', () => 0), 'jonny-depp-bbbbb');
  const d = createDeployment('jonny-dep', { images: ['hollywood/jonny.depp:v2'], port: 5701, replicas: 3, random: () => 0.5 });
  assert.is(d.spec!.replicas, 3);
  assert.equal(d.spec!.template.spec!.containers[0].ports, [{ containerPort: 5701 }]);
  assert.match(d.spec!.template.spec!.containers[0].name, /^jonny-depp-[b-z2-9]{5}$/);
  const withCmd = createDeployment('my-dep', { images: ['busybox'], command: ['date'] });
  assert.equal(withCmd.spec!.template.spec!.containers, [{ name: 'busybox', image: 'busybox', command: ['date'], resources: {} }]);
  const two = createDeployment('two', { images: ['nginx', 'mariadb:10.11'] });
  assert.equal(two.spec!.template.spec!.containers.map((c) => c.name), ['nginx', 'mariadb']);
  assert.throws(() => createDeployment('x', { images: ['a', 'b'], command: ['date'] }), /cannot specify multiple --image options and command/);
  assert.throws(() => createDeployment('x', { images: [] }), /required flag\(s\) "image" not set/);
});

test('wireObject drops the printer-only zero values before the object goes to the apiserver', () => {
  const w = wireObject(nginx());
  assert.is('status' in w, false);
  assert.is('strategy' in w.spec!, false);
  assert.is((nginx().spec as { strategy?: object }).strategy !== undefined, true);
});

test.run();
