import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { netexecHttpAnswer, netexecUdpAnswer, startNetexec } from '../../src/workloads/netexec.ts';

const url = (p: string) => new URL(p, 'http://x');

test('netexec HTTP answers like agnhost: hostname, clientip, echo; no shell', () => {
  assert.equal(netexecHttpAnswer(url('/'), '10.0.0.1:4000', {}, 'web-1'), { status: 200, body: 'web-1' });
  assert.equal(netexecHttpAnswer(url('/hostname'), '10.0.0.1:4000', {}, 'web-1'), { status: 200, body: 'web-1' });
  assert.equal(netexecHttpAnswer(url('/clientip'), '10.0.0.1:4000', {}, 'web-1'), { status: 200, body: '10.0.0.1:4000' });
  assert.equal(netexecHttpAnswer(url('/echo?msg=hi%20there'), 'c', {}, 'h'), { status: 200, body: 'hi there' });
  assert.equal(netexecHttpAnswer(url('/header?key=X-Forwarded-For'), 'c', { 'x-forwarded-for': '1.2.3.4' }, 'h').body, '1.2.3.4');
  assert.is(netexecHttpAnswer(url('/shell?cmd=id'), 'c', {}, 'h').status, 403);
  assert.is(netexecHttpAnswer(url('/nope'), 'c', {}, 'h').status, 404);
});

test('netexec UDP answers hostname, clientip and echo; ignores the rest', () => {
  assert.is(netexecUdpAnswer('hostname\n', 'c:1', 'web-1'), 'web-1');
  assert.is(netexecUdpAnswer('clientip', '10.0.0.1:5', 'h'), '10.0.0.1:5');
  assert.is(netexecUdpAnswer('echo a b', 'c', 'h'), 'a b');
  assert.is(netexecUdpAnswer('what', 'c', 'h'), undefined);
});

test('a real netexec on loopback reports the client address it saw over HTTP and UDP', async () => {
  const srv = await startNetexec({ httpPort: 0, udpPort: 0, hostname: 'pod-a', log: () => {} });
  try {
    const res = await fetch(`http://127.0.0.1:${srv.httpPort}/clientip`);
    assert.match(await res.text(), /^127\.0\.0\.1:\d+$/);
    assert.is(await (await fetch(`http://127.0.0.1:${srv.httpPort}/hostname`)).text(), 'pod-a');
    const sock = createSocket('udp4');
    const answer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP answer')), 2000);
      sock.on('message', (m) => { clearTimeout(timer); resolve(m.toString()); });
      sock.send('hostname', srv.udpPort, '127.0.0.1');
    });
    sock.close();
    assert.is(answer, 'pod-a');
  } finally {
    await srv.close();
  }
});

test.run();
