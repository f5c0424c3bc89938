// The unix-socket -> TCP forwarder that lets the host reach a VM's apiserver,
// run here between a unix socket and a TCP server on loopback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardAlive, forwardArgv, readForwardRecord, waitForSocket, writeForwardRecord } from '../../../src/cluster/libvirt/forward.ts';

test('bytes go both ways through the forwarder, and it removes its socket on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-fwd-'));
  const sock = join(dir, 'api.sock');
  const server = createServer((c) => c.on('data', (d) => c.write(`echo:${d}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const [bin, ...args] = forwardArgv(process.execPath, sock, '127.0.0.1', port);
  const fwd = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((r) => fwd.stdout!.once('data', () => r()));
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect(sock, () => c.write('ping'));
      c.once('data', (d) => {
        resolve(String(d));
        c.destroy();
      });
      c.once('error', reject);
    });
    assert.is(reply, 'echo:ping');
  } finally {
    fwd.kill('SIGTERM');
    await new Promise((r) => fwd.once('exit', r));
    server.close();
  }
  assert.not.ok(existsSync(sock));
  rmSync(dir, { recursive: true, force: true });
});

test('socket path, host and port are argv, not part of the program text', () => {
  const argv = forwardArgv('node', '/tmp/x"; rm -rf /', '10.0.0.1', 6443);
  assert.is(argv[3], '/tmp/x"; rm -rf /');
  assert.not.ok(argv[2].includes('rm -rf'));
});

test('a recorded forwarder is alive while it runs with its socket, dead after SIGTERM (attach restarts it then)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-fwd-'));
  const sock = join(dir, 'api.sock');
  const record = join(dir, 'forward.json');
  const [bin, ...args] = forwardArgv(process.execPath, sock, '127.0.0.1', 9);
  const fwd = spawn(bin, args, { stdio: 'ignore' });
  try {
    writeForwardRecord(record, { socketPath: sock, host: '127.0.0.1', port: 9, pid: fwd.pid! });
    const rec = readForwardRecord(record)!;
    assert.equal(rec, { socketPath: sock, host: '127.0.0.1', port: 9, pid: fwd.pid! });
    assert.ok(await waitForSocket(sock, 10_000), 'socket appears');
    assert.ok(forwardAlive(rec));
    // Another process's pid (a recycled one) is not our forwarder.
    assert.not.ok(forwardAlive({ ...rec, pid: process.pid }));
    fwd.kill('SIGTERM');
    await new Promise((r) => fwd.once('exit', r));
    assert.not.ok(forwardAlive(rec));
    assert.is(readForwardRecord(join(dir, 'missing.json')), undefined);
  } finally {
    fwd.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
