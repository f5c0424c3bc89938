// The host's loopback endpoint: 127.0.0.1:<port> piped to the apiserver's
// TLS-only unix socket, TLS end to end (the client certificate reaches the apiserver).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPki, opensslAvailable, type PkiPaths } from '../../src/controlplane/pki.ts';
import { forwarderAlive, listenLoopback, readForwarderRecord, startLoopbackForwarder, stopLoopbackForwarder, type ListeningForwarder } from '../../src/lifecycle/loopback-forward.ts';
import { startTestServer, stopTestServer, type TestServer } from '../controlplane/helpers.ts';

if (!(await opensslAvailable())) {
  console.log('\n  SKIP test/lifecycle/loopback-forward.test.ts: the openssl CLI is not installed (apt-get install openssl)\n');
  test.skip('the loopback forwarder', () => {});
} else {
  let srv: TestServer;
  let pki: PkiPaths;
  let fwd: ListeningForwarder;

  test.before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svclab-fwd-'));
    pki = await createPki(join(dir, 'pki'), { nodeIP: '192.168.49.2', nodeName: 'node-01', serviceCIDR: '10.96.0.0/12' });
    srv = await startTestServer({ tlsCertFile: pki.apiserverCert, tlsPrivateKeyFile: pki.apiserverKey, clientCAFile: pki.caCert, secureSocket: join(dir, 'api-tls.sock') }, dir);
    fwd = await listenLoopback(srv.secureSocket!);
  });
  test.after(async () => {
    await fwd?.close();
    await stopTestServer(srv);
  });

  const get = (port: number, path: string, withCert: boolean): Promise<{ code: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port, path, ca: readFileSync(pki.caCert),
        ...(withCert ? { cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) } : {}),
      }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  test('TLS through 127.0.0.1:<port> reaches the apiserver with the client certificate (verified as 127.0.0.1)', async () => {
    const r = await get(fwd.port, '/api/v1/namespaces/default/services/kubernetes', true);
    assert.is(r.code, 200);
    assert.is(JSON.parse(r.body).spec.clusterIP, '10.96.0.1');
  });

  test('without a certificate the apiserver answers 401 through the forwarder', async () => {
    const r = await get(fwd.port, '/api/v1/pods', false);
    assert.is(r.code, 401);
    assert.is(JSON.parse(r.body).reason, 'Unauthorized');
  });

  test('plain HTTP is closed unanswered: only TLS passes the loopback port', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(fwd.port, '127.0.0.1', () => s.write('GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d)).on('close', () => resolve(got)).on('error', reject);
    });
    assert.is(answer, '');
  });

  test('the daemon records its pid and port, and stopping it ends the process and removes the record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svclab-fwd-daemon-'));
    const record = join(dir, 'api-forward.json');
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const rec = await startLoopbackForwarder([process.execPath, '--import', 'tsx', main, 'daemon', 'api-forward', `--socket=${srv.secureSocket}`, `--record=${record}`], record, join(dir, 'api-forward.log'), 20_000);
    assert.ok(rec.port > 0);
    assert.equal(readForwarderRecord(record), rec);
    assert.ok(forwarderAlive(rec));
    assert.is((await get(rec.port, '/version', true)).code, 200);
    assert.ok(await stopLoopbackForwarder(record));
    assert.not.ok(forwarderAlive(rec));
    assert.not.ok(existsSync(record));
    assert.not.ok(await stopLoopbackForwarder(record));
    rmSync(dir, { recursive: true, force: true });
  });
}

test.run();
