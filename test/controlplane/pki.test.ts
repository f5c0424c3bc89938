import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/exec.ts';
import { apiserverSANs, createPki, issueClientCert, opensslAvailable, sanExtension, type PkiPaths } from '../../src/controlplane/pki.ts';

const ID = { nodeIP: '192.168.49.2', nodeName: 'node-01', serviceCIDR: '10.96.0.0/12' };

test('the serving SANs are kubeadm\'s: node name, kubernetes.default.svc.cluster.local, the first service IP, node IP, loopback', () => {
  const sans = apiserverSANs(ID);
  assert.equal(sans.dns, ['node-01', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']);
  assert.equal(sans.ips, ['10.96.0.1', '192.168.49.2', '127.0.0.1']);
  assert.is(sanExtension({ dns: ['a'], ips: ['1.2.3.4'] }), 'DNS:a,IP:1.2.3.4');
  assert.equal(apiserverSANs({ ...ID, serviceCIDR: '10.100.0.0/16', clusterDomain: 'lab.test' }).ips[0], '10.100.0.1');
  assert.ok(apiserverSANs({ ...ID, clusterDomain: 'lab.test' }).dns.includes('kubernetes.default.svc.lab.test'));
});

const have = await opensslAvailable();
if (!have) {
  console.log('\n  SKIP test/controlplane/pki.test.ts (openssl part): the openssl CLI is not installed (apt-get install openssl)\n');
  test.skip('a lab PKI made with openssl', () => {});
} else {
  let dir: string;
  let p: PkiPaths;
  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'svclab-pki-'));
    p = await createPki(join(dir, 'pki'), ID);
  });
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  const text = async (cert: string) => (await run(['openssl', 'x509', '-in', cert, '-noout', '-text'])).stdout;

  test('openssl verifies the serving and admin certificates against the lab CA, for their purposes', async () => {
    const server = await run(['openssl', 'verify', '-CAfile', p.caCert, '-purpose', 'sslserver', p.apiserverCert]);
    assert.is(server.stdout.trim(), `${p.apiserverCert}: OK`);
    const client = await run(['openssl', 'verify', '-CAfile', p.caCert, '-purpose', 'sslclient', p.adminCert]);
    assert.is(client.stdout.trim(), `${p.adminCert}: OK`);
    const wrong = await run(['openssl', 'verify', '-CAfile', p.caCert, '-purpose', 'sslserver', p.adminCert], { allowFailure: true });
    assert.is.not(wrong.code, 0);
  });

  test('the serving certificate carries every SAN a client reaches the apiserver by', async () => {
    const t = await text(p.apiserverCert);
    for (const san of ['DNS:node-01', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:192.168.49.2', 'IP Address:10.96.0.1']) {
      assert.ok(t.includes(san), `${san} missing in\n${t}`);
    }
    assert.match(t, /Subject: CN ?= ?kube-apiserver/);
    assert.match(t, /CA:FALSE/);
  });

  test('the admin certificate is kubeadm\'s admin.conf identity: CN kubernetes-admin, O system:masters', async () => {
    const subj = (await run(['openssl', 'x509', '-in', p.adminCert, '-noout', '-subject', '-nameopt', 'RFC2253'])).stdout.trim();
    assert.is(subj, 'subject=CN=kubernetes-admin,O=system:masters');
    assert.match(await text(p.caCert), /CA:TRUE/);
  });

  test('keys are 0600 and the pki directory 0700', () => {
    for (const key of [p.caKey, p.apiserverKey, p.adminKey]) assert.is(statSync(key).mode & 0o777, 0o600, key);
    assert.is(statSync(p.dir).mode & 0o777, 0o700);
  });

  test('a further client certificate is signed by the same CA', async () => {
    const c = await issueClientCert(p, 'jane', 'jane', ['devs']);
    assert.is((await run(['openssl', 'verify', '-CAfile', p.caCert, c.cert])).stdout.trim(), `${c.cert}: OK`);
    assert.is(statSync(c.key).mode & 0o777, 0o600);
  });

  test('a name that openssl\'s subject syntax would split is refused', async () => {
    let err: unknown;
    try {
      await issueClientCert(p, 'x', 'a/CN=b');
    } catch (e) {
      err = e;
    }
    assert.match(String(err), /characters openssl's subject syntax/);
  });
}

test.run();
