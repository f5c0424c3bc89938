import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createTcp } from 'node:net';
import { createServer as createHttp } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probePort, readinessProbeFor, runProbe } from '../../src/workloads/probes.ts';

const c = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' as const }] };

test('the readiness probe: an override wins, then the spec, then a TCP check of the first TCP port', () => {
  assert.equal(readinessProbeFor(c), { tcpSocket: { port: 8080 }, periodSeconds: 2, failureThreshold: 1 });
  const spec = { httpGet: { path: '/ready', port: 'http' } };
  assert.equal(readinessProbeFor({ ...c, readinessProbe: spec }), spec);
  assert.equal(readinessProbeFor({ ...c, readinessProbe: spec }, { tcpSocket: { port: 53 } }), { tcpSocket: { port: 53 } });
  assert.is(readinessProbeFor({ name: 'sleep' }), undefined);
  assert.is(readinessProbeFor({ name: 'udp', ports: [{ containerPort: 53, protocol: 'UDP' }] }), undefined);
});

test('probe ports: numbers, numeric strings and named container ports', () => {
  assert.is(probePort(80, c), 80);
  assert.is(probePort('81', c), 81);
  assert.is(probePort('http', c), 8080);
  assert.throws(() => probePort('grpc', c), /not a named port of container c/);
});

test('tcpSocket: success on an open port, ECONNREFUSED once it closes', async () => {
  const srv = createTcp((s) => s.end()).listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  const target = { podIP: '127.0.0.1', container: { name: 'c' } };
  assert.equal(await runProbe({ tcpSocket: { port } }, target), { ok: true });
  await new Promise((r) => srv.close(r));
  const r = await runProbe({ tcpSocket: { port } }, target);
  assert.equal([r.ok, r.message], [false, `dial tcp 127.0.0.1:${port}: ECONNREFUSED`]);
});

test('httpGet: 2xx and 3xx pass, 5xx fails with the status code; headers are sent', async () => {
  const seen: string[] = [];
  const srv = createHttp((req, res) => {
    seen.push(`${req.url} ${req.headers['x-probe']}`);
    res.writeHead(req.url === '/bad' ? 503 : req.url === '/moved' ? 302 : 200).end();
  }).listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  const target = { podIP: '127.0.0.1', container: { name: 'c' } };
  try {
    assert.is((await runProbe({ httpGet: { path: '/ok', port, httpHeaders: [{ name: 'X-Probe', value: '1' }] } }, target)).ok, true);
    assert.is((await runProbe({ httpGet: { path: '/moved', port } }, target)).ok, true);
    assert.equal(await runProbe({ httpGet: { path: '/bad', port } }, target), { ok: false, message: 'HTTP probe failed with statuscode: 503' });
    assert.is(seen[0], '/ok 1');
  } finally {
    srv.close();
  }
});

test('an exec probe without a running container fails without running anything', async () => {
  assert.equal(await runProbe({ exec: { command: ['true'] } }, { podIP: '', container: { name: 'c' } }), { ok: false, message: 'container not running' });
});

test.run();
