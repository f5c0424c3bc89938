import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseApiServerFlags } from '../../src/controlplane/apiserver.ts';
import { LabFileError } from '../../src/util/errors.ts';

const base = ['--state-dir=/var/lib/svclab/lab1', '--nodes=node-01=192.168.49.2=10.244.0.0/24,node-02=192.168.49.3=10.244.1.0/24'];

test('kube-apiserver-style flags become apiserver options', () => {
  const o = parseApiServerFlags([
    '--advertise-address=192.168.49.2',
    '--secure-port=6443',
    '--service-cluster-ip-range=10.96.0.0/12',
    '--service-node-port-range', '30000-32767',
    '--unix-socket=/run/svclab/lab1/apiserver.sock',
    '--dns-hosts-dir=/var/lib/svclab/lab1/dns',
    '--etcd-servers=https://127.0.0.1:2379',
    ...base,
  ]);
  assert.is(o.listen, '192.168.49.2:6443');
  assert.is(o.serviceCIDR, '10.96.0.0/12');
  assert.equal(o.nodePortRange, { base: 30000, size: 2768 });
  assert.is(o.socket, '/run/svclab/lab1/apiserver.sock');
  assert.is(o.dnsHostsDir, '/var/lib/svclab/lab1/dns');
  assert.is(o.controlPlaneNode, 'node-01');
  assert.is(o.advertiseAddress, '192.168.49.2');
  assert.equal(o.nodes[1], { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' });
  assert.equal(o.ignoredFlags, ['--etcd-servers=https://127.0.0.1:2379']);
  assert.ok(o.handleSignals);
});

test('defaults: kubeadm ranges, 0.0.0.0:6443, socket and DNS dir in the state dir', () => {
  const o = parseApiServerFlags(base);
  assert.is(o.serviceCIDR, '10.96.0.0/12');
  assert.is(o.listen, '0.0.0.0:6443');
  assert.is(o.socket, '/var/lib/svclab/lab1/apiserver.sock');
  assert.is(o.dnsHostsDir, '/var/lib/svclab/lab1/dns');
  assert.is(parseApiServerFlags([...base, '--bind-address=127.0.0.1', '--secure-port=0']).listen, '127.0.0.1:0');
});

test('TLS and authentication flags as kube-apiserver names them: all three TLS files or none', () => {
  const o = parseApiServerFlags([...base, '--tls-cert-file=/p/apiserver.crt', '--tls-private-key-file=/p/apiserver.key', '--client-ca-file=/p/ca.crt', '--token-auth-file=/p/tokens.csv', '--secure-unix-socket=/s/api-tls.sock']);
  assert.equal([o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCAFile, o.tokenAuthFile, o.secureSocket], ['/p/apiserver.crt', '/p/apiserver.key', '/p/ca.crt', '/p/tokens.csv', '/s/api-tls.sock']);
  assert.equal(o.ignoredFlags, []);
  assert.throws(() => parseApiServerFlags([...base, '--tls-cert-file=/p/apiserver.crt']), (e: LabFileError) => e.message === 'apiserver flag --tls-private-key-file: required with --tls-cert-file (the TLS listener needs the serving pair and the client CA)');
  assert.throws(() => parseApiServerFlags([...base, '--secure-unix-socket=/s/x.sock']), /--secure-unix-socket: needs --tls-cert-file/);
});

test('bad flags are reported with the flag named', () => {
  const bad = (argv: string[], re: RegExp) =>
    assert.throws(() => parseApiServerFlags(argv), (e: Error) => e instanceof LabFileError && re.test(e.message));
  bad([...base, '--service-cluster-ip-range=10.96.0.1/12'], /--service-cluster-ip-range: .*host bits set/);
  bad([...base, '--service-node-port-range=30000'], /--service-node-port-range: "30000" is not a port range/);
  bad(['--state-dir=/x', '--nodes=node-01=192.168.49.2'], /--nodes: "node-01=192.168.49.2" is not name=ip=podCIDR/);
  bad(['--nodes=node-01=192.168.49.2=10.244.0.0/24'], /--state-dir: required/);
  bad([...base, '--frobnicate=1'], /--frobnicate: unknown flag/);
});

test.run();
