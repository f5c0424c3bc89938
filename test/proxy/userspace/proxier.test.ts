// The userspace proxy's data path on loopback (127.0.0.1 only): real sockets,
// two tagged backends, the proxy in between.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { UserspaceProxier } from '../../../src/proxy/userspace/proxier.ts';
import type { ProxyState } from '../../../src/proxy/model.ts';
import { ep, state, svc } from '../ipvs/fixtures.ts';

const LO = '127.0.0.1';
const identity = (e: string[]) => [...e];

/** A TCP backend that greets each connection with its name, then echoes. */
async function tcpBackend(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => {});
    c.write(`${name}\n`);
    c.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, LO, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const c of conns) c.destroy();
      server.close(() => r());
    }),
  };
}

async function udpBackend(name: string): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address));
  await new Promise<void>((r) => s.bind(0, LO, r));
  return { port: s.address().port, close: () => s.close() };
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LO, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Connects to the proxy and returns the greeting line (or "" if the proxy closed the connection). */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, LO);
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        c.destroy();
        resolve(buf.split('\n')[0]);
      }
    });
    c.on('close', () => resolve(buf));
    c.on('error', reject);
  });
}

function udpAsk(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 2000);
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m.toString())));
    s.send(msg, port, LO);
  });
}

const web = (eps: number[], p: Parameters<typeof svc>[3] = {}): ProxyState =>
  state([[svc('default', 'web', 'http', { clusterIP: '10.96.0.20', port: 80, ...p }), eps.map((port) => ep(LO, port))]]);

test('round-robin alternates between two backends', async () => {
  const [a, b] = [await tcpBackend('A'), await tcpBackend('B')];
  const px = new UserspaceProxier({ bindAddress: LO, shuffle: identity });
  try {
    const port = (await px.update(web([a.port, b.port]))).get('default/web:http')!;
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await greeting(port));
    assert.equal(got, ['A', 'B', 'A', 'B']);
  } finally {
    await px.close();
    await a.close();
    await b.close();
  }
});

test('ClientIP affinity sticks a client to one backend until the timeout, swept on sync', async () => {
  const [a, b] = [await tcpBackend('A'), await tcpBackend('B')];
  let now = Date.now();
  const px = new UserspaceProxier({ bindAddress: LO, shuffle: identity, now: () => now });
  try {
    const st = web([a.port, b.port], { sessionAffinityClientIP: true, stickyMaxAgeSeconds: 30 });
    const port = (await px.update(st)).get('default/web:http')!;
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await greeting(port));
    assert.equal(got, ['A', 'A', 'A', 'A']);
    assert.is(px.lb.affinityEntries('default/web:http'), 1);
    now += 31_000;
    await px.update(st);
    assert.is(px.lb.affinityEntries('default/web:http'), 0);
    assert.is(await greeting(port), 'B');
  } finally {
    await px.close();
    await a.close();
    await b.close();
  }
});

test('a dead endpoint is skipped: the dial fails and the next endpoint is tried (tryConnect)', async () => {
  const b = await tcpBackend('B');
  const dead = await deadPort();
  const px = new UserspaceProxier({ bindAddress: LO, shuffle: identity });
  try {
    const port = (await px.update(web([dead, b.port]))).get('default/web:http')!;
    assert.equal([await greeting(port), await greeting(port)], ['B', 'B']);
  } finally {
    await px.close();
    await b.close();
  }
});

test('a service without endpoints accepts and closes the connection', async () => {
  const px = new UserspaceProxier({ bindAddress: LO });
  try {
    const port = (await px.update(web([]))).get('default/web:http')!;
    assert.is(await greeting(port), '');
  } finally {
    await px.close();
  }
});

test('a UDP round trip, and the session is dropped after the idle timeout', async () => {
  const a = await udpBackend('A');
  const px = new UserspaceProxier({ bindAddress: LO, shuffle: identity, udpIdleTimeoutMs: 100 });
  try {
    const st = state([[svc('kube-system', 'kube-dns', 'dns', { clusterIP: '10.96.0.10', port: 53, protocol: 'UDP' }), [ep(LO, a.port)]]]);
    const port = (await px.update(st)).get('kube-system/kube-dns:dns')!;
    assert.is(await udpAsk(port, 'ping'), 'A:ping');
    assert.is(await udpAsk(port, 'again'), 'A:again');
    await new Promise((r) => setTimeout(r, 300));
    // Sessions are internal; a fresh round trip still works after expiry.
    assert.is(await udpAsk(port, 'later'), 'A:later');
  } finally {
    await px.close();
    a.close();
  }
});

test('update opens listeners for new service ports and closes them for removed ones', async () => {
  const a = await tcpBackend('A');
  const px = new UserspaceProxier({ bindAddress: LO });
  try {
    const two: ProxyState = state([
      [svc('default', 'web', 'http', { clusterIP: '10.96.0.20' }), [ep(LO, a.port)]],
      [svc('default', 'api', 'http', { clusterIP: '10.96.0.21' }), [ep(LO, a.port)]],
    ]);
    const ports = await px.update(two);
    assert.equal([...ports.keys()].sort(), ['default/api:http', 'default/web:http']);
    const apiPort = ports.get('default/api:http')!;
    assert.is(await greeting(apiPort), 'A');
    const after = await px.update(web([a.port]));
    assert.equal([...after.keys()], ['default/web:http']);
    assert.is(after.get('default/web:http'), ports.get('default/web:http'), 'an unchanged service keeps its port');
    const refused = await greeting(apiPort).then(() => 'connected', (e: Error) => e.message);
    assert.match(refused, /ECONNREFUSED/);
    // A changed config (new ClusterIP port) restarts the listener.
    const changed = await px.update(web([a.port], { port: 8080 }));
    assert.is.not(changed.get('default/web:http'), ports.get('default/web:http'));
  } finally {
    await px.close();
    await a.close();
  }
});

test('bytes survive the copy intact, and a half-close is passed on', async () => {
  // A backend that hashes what it receives until FIN, then answers with the hash.
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    const h = createHash('sha256');
    c.on('data', (d) => h.update(d));
    c.on('end', () => c.end(h.digest('hex')));
  });
  await new Promise<void>((r) => server.listen(0, LO, r));
  const px = new UserspaceProxier({ bindAddress: LO });
  try {
    const port = (await px.update(web([(server.address() as net.AddressInfo).port]))).get('default/web:http')!;
    const payload = randomBytes(32 << 20);
    const start = process.hrtime.bigint();
    const answer = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ port, host: LO, allowHalfOpen: true });
      let buf = '';
      c.on('data', (d) => (buf += d));
      c.on('end', () => resolve(buf));
      c.on('error', reject);
      c.end(payload);
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.is(answer, createHash('sha256').update(payload).digest('hex'));
    console.log(`    32 MiB through the userspace proxy in ${ms.toFixed(0)} ms (${((32 / ms) * 1000).toFixed(0)} MiB/s, loopback)`);
  } finally {
    await px.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('replies read into reused buffers arrive intact through a slow client, and the endpoint\'s FIN is passed on', async () => {
  // The endpoint sends a large random reply, then closes its side; the client reads slowly
  // (paused now and then), so the proxy must stop reading and must not reuse a buffer
  // whose bytes are still queued for the client.
  const payload = randomBytes(24 << 20);
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    c.on('error', () => {});
    c.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, LO, r));
  const px = new UserspaceProxier({ bindAddress: LO });
  try {
    const port = (await px.update(web([(server.address() as net.AddressInfo).port]))).get('default/web:http')!;
    const got = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ port, host: LO, allowHalfOpen: true });
      const h = createHash('sha256');
      let seen = 0;
      let nextPause = 2 << 20;
      c.on('data', (d) => {
        h.update(d);
        seen += d.length;
        if (seen >= nextPause) {
          nextPause += 3 << 20;
          c.pause();
          setTimeout(() => c.resume(), 20);
        }
      });
      c.on('end', () => {
        c.end();
        resolve(`${seen} ${h.digest('hex')}`);
      });
      c.on('error', reject);
    });
    assert.is(got, `${payload.length} ${createHash('sha256').update(payload).digest('hex')}`);
  } finally {
    await px.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test.run();
