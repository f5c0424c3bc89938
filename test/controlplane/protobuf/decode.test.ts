// The protobuf envelope client-go sends for built-in kinds, decoded into the
// JSON kubectl would have sent: each served kind round-trips, Go's zero values
// (always on the wire for non-pointer fields) vanish where encoding/json's
// omitempty drops them, and bad envelopes get upstream's decode error texts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import protobuf from 'protobufjs';
import { decodeProtobufObject, encodeProtobufObject } from '../../../src/controlplane/protobuf/decode.ts';

const roundTrip = (obj: Record<string, unknown>) => decodeProtobufObject(encodeProtobufObject(obj), String(obj.kind));

/** runtime.Unknown by hand from upstream's field numbers (typeMeta 1 {apiVersion 1, kind 2}, raw 2), independent of the schema. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(apiVersion).uint32((2 << 3) | 2).string(kind).ldelim();
  w.uint32((2 << 3) | 2).bytes(raw);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), w.finish()]);
}

test('the envelope is the k8s\\0 magic and a runtime.Unknown with typeMeta first', () => {
  const b = encodeProtobufObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  const raw = protobuf.Reader.create(b.subarray(4));
  assert.equal([...b.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
  assert.is(raw.uint32(), (1 << 3) | 2);
  const meta = protobuf.Reader.create(raw.bytes());
  assert.is(meta.uint32(), (1 << 3) | 2);
  assert.is(meta.string(), 'v1');
  assert.is(meta.uint32(), (2 << 3) | 2);
  assert.is(meta.string(), 'Namespace');
  // And a hand-made envelope around the same raw bytes decodes the same.
  assert.is(raw.uint32(), (2 << 3) | 2);
  assert.equal(decodeProtobufObject(envelope('v1', 'Namespace', raw.bytes()), 'Namespace'), { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'team' } });
});

test('a NodePort Service as kubectl create service sends it: IntOrString, maps, a null creationTimestamp', () => {
  const svc = {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
    spec: {
      ports: [
        { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
        { name: 'metrics', protocol: 'TCP', port: 9090, targetPort: 'metrics' },
      ],
      selector: { app: 'web' },
      type: 'NodePort',
    },
    status: { loadBalancer: {} },
  };
  assert.equal(roundTrip(svc), svc);
});

test("Go's always-written zero values: omitempty ones vanish, pointers and non-omitempty ones stay", () => {
  const sent = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    // gogo-protobuf writes every non-pointer string and number, empty or not.
    metadata: { name: 'web', generateName: '', namespace: '', generation: 0, creationTimestamp: null },
    spec: {
      replicas: 0, // *int32: the user asked for none
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx', workingDir: '', ports: [{ name: '', containerPort: 80, protocol: 'TCP', hostPort: 0 }], resources: {}, stdin: false }],
          automountServiceAccountToken: false, // *bool
          hostNetwork: false,
        },
      },
      strategy: {},
      minReadySeconds: 0,
      paused: false,
    },
    status: { replicas: 0, observedGeneration: 0 },
  };
  assert.equal(roundTrip(sent), {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'web', creationTimestamp: null },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {} }], automountServiceAccountToken: false },
      },
      strategy: {},
    },
    status: {},
  });
});

test('a Pod from kubectl run: quantities as text, inlined probe handlers, volume sources and key selectors', () => {
  const pod = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'client', labels: { run: 'client' }, creationTimestamp: '2026-12-07T21:00:05Z' },
    spec: {
      containers: [
        {
          name: 'client',
          image: 'busybox',
          args: ['sleep', '3600'],
          env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode', optional: true } } }],
          resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '0' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 3, failureThreshold: 1 },
          livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 5 },
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }],
        },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      dnsPolicy: 'ClusterFirst',
    },
    status: {},
  };
  assert.equal(roundTrip(pod), pod);
});

test('the rest of the served kinds: Node, Endpoints, EndpointSlice, ServiceCIDR', () => {
  const node = { kind: 'Node', apiVersion: 'v1', metadata: { name: 'node-01' }, spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] }, status: { addresses: [{ type: 'InternalIP', address: '192.168.49.2' }], capacity: { pods: '110' } } };
  assert.equal(roundTrip(node), node);
  const ep = { kind: 'Endpoints', apiVersion: 'v1', metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.0.5', nodeName: 'node-01', targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' } }], ports: [{ port: 8080, protocol: 'TCP' }] }] };
  assert.equal(roundTrip(ep), ep);
  const slice = {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: { name: 'web-abc', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }] },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: false, serving: true, terminating: false }, nodeName: 'node-01' }],
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
  };
  assert.equal(roundTrip(slice), slice);
  const cidr = { kind: 'ServiceCIDR', apiVersion: 'networking.k8s.io/v1', metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.96.0.0/12'] }, status: {} };
  assert.equal(roundTrip(cidr), cidr);
});

test('DeleteOptions as a typed client-go DELETE sends them: a zero grace period is kept (a pointer), dryRun a list', () => {
  const opts = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background', preconditions: { uid: 'u1' }, dryRun: ['All'] };
  assert.equal(roundTrip(opts), opts);
  assert.equal(roundTrip({ kind: 'DeleteOptions', apiVersion: 'apps/v1' }), { kind: 'DeleteOptions', apiVersion: 'apps/v1' });
});

test('a body without the magic is refused as upstream refuses it', () => {
  const expect = (body: Buffer, text: string) => assert.throws(() => decodeProtobufObject(body, 'Service'), (e: Error) => e.message === text);
  // upstream's summarizeData: JSON as text, other bytes as hex, 30 bytes and " ..." at most
  expect(Buffer.from('{"kind":"Service"}'), 'the object provided is unrecognized (must be of type Service): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({"kind":"Service"})');
  expect(Buffer.from('kind: Service\napiVersion: v1\nmetadata: {}'), 'the object provided is unrecognized (must be of type Service): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (6b696e643a20536572766963650a61706956657273696f6e3a2076310a6d ...)');
  expect(Buffer.alloc(0), 'the object provided is unrecognized (must be of type Service): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (<empty>)');
});

test('an envelope without a kind is unrecognized', () => {
  assert.throws(() => decodeProtobufObject(envelope('v1', '', new Uint8Array()), 'Pod'), (e: Error) => e.message.startsWith("the object provided is unrecognized (must be of type Pod): Object 'Kind' is missing (6b387300"));
});

test('a kind the lab does not serve names itself and the resource it was sent to', () => {
  const body = envelope('v1', 'ConfigMap', new Uint8Array());
  assert.throws(() => decodeProtobufObject(body, 'Service'), (e: Error) => e.message === 'ConfigMap in version "v1" cannot be handled as a Service: no kind "ConfigMap" is registered for version "v1" in scheme "svclab"');
});

test('truncated raw bytes are a decode error, not a half object', () => {
  const whole = encodeProtobufObject({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', labels: { a: 'b' } } });
  const raw = protobuf.Reader.create(whole.subarray(4));
  raw.skipType(raw.uint32() & 7);
  raw.uint32();
  const bytes = raw.bytes();
  assert.throws(() => decodeProtobufObject(envelope('v1', 'Service', bytes.subarray(0, bytes.length - 3)), 'Service'), /^Service in version "v1" cannot be handled as a Service: /);
});

test.run();
