// The guest agent (as baked into the image) and the host's VmNode, talking the
// JSON-lines protocol over the agent's stdio mode instead of a virtio port.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_SOURCE } from '../../../src/image/agent-source.ts';
import { AgentClient } from '../../../src/cluster/libvirt/agent-client.ts';
import { VmNode } from '../../../src/cluster/libvirt/vm-node.ts';
import { CommandError } from '../../../src/util/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'svclab-agent-'));
const agentFile = join(dir, 'agent.mjs');
writeFileSync(agentFile, AGENT_SOURCE);
let child: ChildProcess;
let node: VmNode;

test.before(() => {
  child = spawn(process.execPath, [agentFile, '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  node = new VmNode('node-01', '192.168.49.2', async () => new AgentClient(child.stdout!, child.stdin!, 'node-01'));
});

test.after(async () => {
  await node.close();
  child.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('exec returns exit code, stdout and stderr, and feeds input', async () => {
  const r = await node.exec(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello\n', allowFailure: true });
  assert.equal(r, { code: 3, stdout: 'hello\n', stderr: 'err\n' });
});

test('a failing exec throws a CommandError naming the node', async () => {
  try {
    await node.exec(['sh', '-c', 'echo boom >&2; exit 2']);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CommandError);
    assert.match((err as Error).message, /failed on node-01 \(exit 2\)/);
    assert.match((err as Error).message, /boom/);
  }
});

test('a missing program is exit 127, not a hang', async () => {
  const r = await node.exec(['/nonexistent/prog'], { allowFailure: true });
  assert.is(r.code, 127);
});

test('env and timeout reach the guest process', async () => {
  const r = await node.exec(['sh', '-c', 'echo $LAB'], { env: { LAB: 'clusterip-db' } });
  assert.is(r.stdout, 'clusterip-db\n');
  const t = await node.exec(['sleep', '5'], { timeoutMs: 200, allowFailure: true });
  assert.is(t.code, 128 + 9);
});

test('writeFile creates parents and sets the mode; readFile reads it back', async () => {
  const p = join(dir, 'a/b/c.txt');
  await node.writeFile(p, 'ünïcode\n', 0o600);
  assert.is(readFileSync(p, 'utf8'), 'ünïcode\n');
  assert.is(statSync(p).mode & 0o777, 0o600);
  assert.is(await node.readFile(p), 'ünïcode\n');
  assert.is(await node.readFile(join(dir, 'missing')), undefined);
});

test('a file bigger than one chunk arrives whole', async () => {
  const big = Buffer.alloc(1_300_000, 7);
  big[big.length - 1] = 42;
  const p = join(dir, 'big.bin');
  await node.writeBytes(p, big);
  assert.ok(readFileSync(p).equals(big));
});

test('startDaemon detaches, logs to the file and returns the pid', async () => {
  const log = join(dir, 'logs/d.log');
  const pid = await node.startDaemon(['sh', '-c', 'echo started $X; sleep 30'], log, { X: 'yes' });
  assert.ok(pid > 0);
  for (let i = 0; i < 50 && !(existsSync(log) && readFileSync(log, 'utf8').includes('started')); i++) await new Promise((r) => setTimeout(r, 50));
  assert.is(readFileSync(log, 'utf8'), 'started yes\n');
  process.kill(pid);
});

test('concurrent requests are matched to their answers', async () => {
  const rs = await Promise.all([3, 1, 2].map((n) => node.exec(['sh', '-c', `sleep 0.${n}; echo ${n}`])));
  assert.equal(rs.map((r) => r.stdout), ['3\n', '1\n', '2\n']);
});

test.run();
