// Authentication and authorization on the apiserver's TLS listener, driven by
// the real kubectl (v1.32 here) and by plain HTTPS requests; plus the pure parts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec.ts';
import { createPki, issueClientCert, opensslAvailable, type PkiPaths } from '../../src/controlplane/pki.ts';
import { requestAttributes } from '../../src/controlplane/auth/attributes.ts';
import { authorize, forbiddenStatus } from '../../src/controlplane/auth/authorize.ts';
import { csvFields, parseTokenFile } from '../../src/controlplane/auth/token-file.ts';
import { decodeReviewBody } from '../../src/controlplane/auth/reviews.ts';
import { ApiClient } from '../../src/controlplane/client.ts';
import { startTestServer, stopTestServer, type TestServer } from './helpers.ts';

const q = (s = '') => new URLSearchParams(s);
const JANE = { username: 'jane', uid: '1001', groups: ['devs', 'system:authenticated'] };

test('request attributes follow upstream\'s RequestInfo: list, watch, get, deletecollection, namespaces, subresources', () => {
  assert.equal(requestAttributes('GET', '/api/v1/namespaces/default/pods', q()), { resourceRequest: true, verb: 'list', group: '', version: 'v1', resource: 'pods', subresource: '', namespace: 'default', name: '' });
  assert.is((requestAttributes('GET', '/api/v1/pods', q('watch=true')) as { verb: string }).verb, 'watch');
  assert.is((requestAttributes('GET', '/api/v1/watch/namespaces/default/pods', q()) as { verb: string }).verb, 'watch');
  assert.equal(requestAttributes('PUT', '/apis/apps/v1/namespaces/web/deployments/nginx/scale', q()), { resourceRequest: true, verb: 'update', group: 'apps', version: 'v1', resource: 'deployments', subresource: 'scale', namespace: 'web', name: 'nginx' });
  assert.is((requestAttributes('DELETE', '/api/v1/namespaces/default/services', q()) as { verb: string }).verb, 'deletecollection');
  // A Namespace object is named by the namespace it is, as upstream's RequestInfo has it.
  assert.equal(requestAttributes('GET', '/api/v1/namespaces/kube-system', q()), { resourceRequest: true, verb: 'get', group: '', version: 'v1', resource: 'namespaces', subresource: '', namespace: 'kube-system', name: 'kube-system' });
  assert.equal(requestAttributes('GET', '/apis/apps/v1', q()), { resourceRequest: false, verb: 'get', path: '/apis/apps/v1' });
});

test('a user outside system:masters may read discovery and review itself, nothing else', () => {
  const a = (m: string, p: string, s = '') => authorize(JANE, requestAttributes(m, p, q(s))).allowed;
  assert.ok(a('GET', '/apis'));
  assert.ok(a('GET', '/version'));
  assert.ok(a('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews'));
  assert.ok(a('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'));
  assert.not.ok(a('GET', '/api/v1/namespaces/default/pods'));
  assert.not.ok(a('GET', '/metrics'));
  assert.ok(authorize({ username: 'root', groups: ['system:masters'] }, requestAttributes('DELETE', '/api/v1/nodes/node-01', q())).allowed);
});

test('the 403 Status has upstream\'s message and details, namespaced, cluster-scoped and for paths', () => {
  const s = forbiddenStatus(JANE, requestAttributes('DELETE', '/api/v1/namespaces/default/services/web', q()));
  assert.equal(s, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'services "web" is forbidden: User "jane" cannot delete resource "services" in API group "" in the namespace "default"',
    details: { name: 'web', kind: 'services' },
  });
  assert.is(forbiddenStatus(JANE, requestAttributes('GET', '/apis/apps/v1/deployments', q())).message,
    'deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" at the cluster scope');
  assert.is(forbiddenStatus(JANE, requestAttributes('GET', '/metrics', q())).message, 'forbidden: User "jane" cannot get path "/metrics"');
});

test('the token file is kube-apiserver\'s CSV: token,user,uid,"group1,group2"', () => {
  assert.equal(csvFields('a,b,"c,d",""""'), ['a', 'b', 'c,d', '"']);
  const t = parseTokenFile('# learners\ntok-1,jane,1001,"devs,qa"\ntok-2,bob,1002\n');
  assert.equal(t.get('tok-1'), { username: 'jane', uid: '1001', groups: ['devs', 'qa'] });
  assert.equal(t.get('tok-2'), { username: 'bob', uid: '1002', groups: [] });
  assert.throws(() => parseTokenFile('tok-3,carol\n', 'tokens.csv'), /line 1/);
});

test('a protobuf SelfSubjectAccessReview (kubectl auth can-i) decodes to its resource attributes', () => {
  const ld = (n: number, b: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, b.length]), b]);
  const s = (n: number, v: string) => ld(n, Buffer.from(v));
  const attrs = Buffer.concat([s(1, 'default'), s(2, 'delete'), s(5, 'services')]);
  const raw = Buffer.concat([ld(1, Buffer.alloc(0)), ld(2, ld(1, attrs))]);
  const envelope = Buffer.concat([Buffer.from('k8s\0', 'latin1'), ld(1, Buffer.concat([s(1, 'authorization.k8s.io/v1'), s(2, 'SelfSubjectAccessReview')])), ld(2, raw), s(4, 'application/vnd.kubernetes.protobuf')]);
  assert.equal(decodeReviewBody(envelope, 'application/vnd.kubernetes.protobuf'), {
    kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'default', verb: 'delete', resource: 'services' } },
  });
  assert.equal(decodeReviewBody(Buffer.from('{"spec":{}}'), 'application/json'), { spec: {} });
});

// ---- against a running apiserver with a throwaway PKI ----

const hasOpenssl = await opensslAvailable();
const hasKubectl = existsSync('/usr/bin/kubectl') || (await run(['sh', '-c', 'command -v kubectl'], { allowFailure: true })).code === 0;
if (!hasOpenssl) {
  console.log('\n  SKIP test/controlplane/auth.test.ts (TLS part): the openssl CLI is not installed (apt-get install openssl)\n');
  test.skip('the TLS listener with a lab PKI', () => {});
} else {
  let srv: TestServer;
  let pki: PkiPaths;
  let other: PkiPaths;
  let kubeconfig: string;
  let cacheDir: string;

  test.before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svclab-auth-'));
    const id = { nodeIP: '192.168.49.2', nodeName: 'node-01', serviceCIDR: '10.96.0.0/12' };
    [pki, other] = await Promise.all([createPki(join(dir, 'pki'), id), createPki(join(dir, 'other-pki'), id, { caName: 'someone-else' })]);
    writeFileSync(join(dir, 'tokens.csv'), 'tok-jane,jane,1001,"devs,qa"\n');
    srv = await startTestServer({
      tlsCertFile: pki.apiserverCert, tlsPrivateKeyFile: pki.apiserverKey, clientCAFile: pki.caCert,
      tokenAuthFile: join(dir, 'tokens.csv'), secureSocket: join(dir, 'secure.sock'),
    }, dir);
    kubeconfig = join(dir, 'kubeconfig');
    cacheDir = join(dir, 'kube-cache');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: lab', '  cluster:', `    server: https://127.0.0.1:${srv.port}`, `    certificate-authority: ${pki.caCert}`,
      'users:', '- name: admin', '  user:', `    client-certificate: ${pki.adminCert}`, `    client-key: ${pki.adminKey}`,
      '- name: jane', '  user:', '    token: tok-jane',
      'contexts:', '- name: admin', '  context: {cluster: lab, user: admin}', '- name: jane', '  context: {cluster: lab, user: jane}',
      'current-context: admin', '',
    ].join('\n'));
  });
  test.after(() => stopTestServer(srv));

  interface Reply { code: number; body: string }
  const https = (path: string, opts: { cert?: string; key?: string; token?: string; socketPath?: string } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({
        ...(opts.socketPath ? { socketPath: opts.socketPath } : { host: '127.0.0.1', port: srv.port }),
        servername: 'kubernetes', path, ca: readFileSync(pki.caCert),
        ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

  test('anonymous HTTPS (no certificate, no token) gets upstream\'s 401 Status', async () => {
    const r = await https('/api/v1/pods');
    assert.is(r.code, 401);
    assert.equal(JSON.parse(r.body), UNAUTHORIZED);
  });

  test('a client certificate from another CA is refused with 401', async () => {
    const r = await https('/api/v1/pods', { cert: other.adminCert, key: other.adminKey });
    assert.is(r.code, 401);
    assert.equal(JSON.parse(r.body), UNAUTHORIZED);
  });

  test('an unknown bearer token is refused with 401; a known one is its user', async () => {
    assert.is((await https('/api/v1/pods', { token: 'nope' })).code, 401);
    const r = await https('/api/v1/namespaces/default/services/kubernetes', { token: 'tok-jane' });
    assert.is(r.code, 403);
    assert.is(JSON.parse(r.body).message, 'services "kubernetes" is forbidden: User "jane" cannot get resource "services" in API group "" in the namespace "default"');
  });

  test('a certificate of the lab CA outside system:masters is its CN and O, and forbidden', async () => {
    const c = await issueClientCert(pki, 'viewer', 'viewer', ['viewers']);
    const r = await https('/api/v1/nodes', { cert: c.cert, key: c.key });
    assert.is(r.code, 403);
    assert.is(JSON.parse(r.body).message, 'nodes is forbidden: User "viewer" cannot list resource "nodes" in API group "" at the cluster scope');
  });

  test('the secure unix socket serves the same TLS endpoint (what the host\'s loopback forwarder pipes to)', async () => {
    assert.is((await https('/api/v1/pods', { socketPath: srv.secureSocket })).code, 401);
    const r = await https('/api/v1/namespaces/kube-system/services/kube-dns', { socketPath: srv.secureSocket, cert: pki.adminCert, key: pki.adminKey });
    assert.is(r.code, 200);
    assert.is(JSON.parse(r.body).spec.clusterIP, '10.96.0.10');
  });

  test('plain HTTP on the same port and on the unix socket works unchanged (the lab\'s own daemons and CLI)', async () => {
    const tcp = new ApiClient(srv.url!);
    const unix = new ApiClient(`unix://${srv.socket}`);
    try {
      assert.is((await tcp.get('/api/v1/namespaces/default/services/kubernetes')).spec.clusterIP, '10.96.0.1');
      assert.is(await unix.request('GET', '/healthz'), 'ok');
    } finally {
      tcp.close();
      unix.close();
    }
  });

  if (!hasKubectl) {
    console.log('\n  SKIP test/controlplane/auth.test.ts (kubectl part): no kubectl on PATH\n');
    test.skip('the real kubectl against the TLS listener', () => {});
  } else {
    const kubectl = (...args: string[]) => run(['kubectl', '--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--request-timeout', '20s', ...args], { allowFailure: true, timeoutMs: 60_000 });

    test('kubectl with the admin certificate lists the pods', async () => {
      const r = await kubectl('get', 'pods', '-A', '-o', 'name');
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, /^pod\/coredns-[a-z0-9]+-[a-z0-9]+$/m);
    });

    test('kubectl auth whoami shows kubernetes-admin in system:masters', async () => {
      const r = await kubectl('auth', 'whoami');
      assert.is(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)), [['ATTRIBUTE', 'VALUE'], ['Username', 'kubernetes-admin'], ['Groups', '[system:masters system:authenticated]']]);
    });

    test('kubectl auth can-i delete services: yes for the admin, no for a token user', async () => {
      const yes = await kubectl('auth', 'can-i', 'delete', 'services');
      assert.is(yes.stdout.trim(), 'yes');
      assert.is(yes.code, 0);
      const no = await kubectl('--context', 'jane', 'auth', 'can-i', 'delete', 'services');
      assert.is(no.stdout.trim(), 'no');
      assert.is(no.code, 1);
      const self = await kubectl('--context', 'jane', 'auth', 'can-i', 'create', 'selfsubjectaccessreviews.authorization.k8s.io');
      assert.is(self.stdout.trim(), 'yes');
    });

    test('kubectl as a token user that is not a master: whoami works, delete is refused with upstream\'s text', async () => {
      const who = await kubectl('--context', 'jane', 'auth', 'whoami');
      assert.is(who.code, 0, who.stderr);
      assert.match(who.stdout, /^Username\s+jane$/m);
      assert.match(who.stdout, /^Groups\s+\[devs qa system:authenticated\]$/m);
      const del = await kubectl('--context', 'jane', 'delete', 'service', 'kubernetes');
      assert.is(del.code, 1);
      assert.is(del.stderr.trim(), 'Error from server (Forbidden): services "kubernetes" is forbidden: User "jane" cannot delete resource "services" in API group "" in the namespace "default"');
    });
  }
}

test.run();
